package vrn

import (
	"fmt"
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestCompleteAndValid(t *testing.T) {
	t.Parallel()
	// 980780684 is the VRN HMRC uses in its own guidance: 9×8+8×7+0×6+7×5+8×4+0×3+6×2 = 207,
	// and 207 + 84 = 291 = 3×97.
	assert.Equal(t, "980780684", Complete("9807806"))
	assert.True(t, Valid("980780684"))
	assert.False(t, Valid("980780685"))
	// A weighted sum divisible by 97 gets check digits 97, never 00.
	assert.Equal(t, "000000097", Complete("0000000"))
	// mod 9755: 207 + 55 = 262; 262 + 29 = 291.
	assert.True(t, Valid("980780629"))
	for _, bad := range []string{"", "12345678", "1234567890", "12345678a", "98078068４"} {
		assert.False(t, Valid(bad), bad)
	}
	assert.Equal(t, "", Complete("123456"))
	assert.Equal(t, "", Complete("12345a7"))
}

func TestCompleteIsAlwaysValid(t *testing.T) {
	t.Parallel()
	for i := 0; i < 10_000_000; i += 7919 {
		v := Complete(fmt.Sprintf("%07d", i))
		assert.Len(t, v, 9)
		assert.True(t, Valid(v), v)
	}
}
