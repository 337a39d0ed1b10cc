// Package vrn computes HMRC's check digits for VAT registration numbers.
//
// A VRN is nine digits: seven digits and two check digits. The first seven
// digits are weighted 8, 7, 6, 5, 4, 3, 2 and summed; the check digits are
// the number that brings that sum, counted modulo 97, back to a multiple of
// 97 ("mod 97"), or the same with 55 added to the sum first ("mod 9755", used
// for numbers issued since 2010). HMRC's test-user service issues
// mod-97 numbers.
package vrn

// weightedSum is the sum of the first seven digits weighted 8 down to 2.
func weightedSum(first7 string) int {
	total := 0
	for i := 0; i < 7; i++ {
		total += int(first7[i]-'0') * (8 - i)
	}
	return total
}

func check97(total int) int {
	c := 97 - total%97 // 1..97, never 0: a sum divisible by 97 gets 97
	return c
}

func isDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// Complete appends mod-97 check digits to seven digits. It returns "" when
// first7 is not seven ASCII digits.
func Complete(first7 string) string {
	if len(first7) != 7 || !isDigits(first7) {
		return ""
	}
	c := check97(weightedSum(first7))
	return first7 + string([]byte{byte('0' + c/10), byte('0' + c%10)})
}

// Valid reports whether vrn is nine digits whose last two are valid check
// digits under either the mod-97 or the mod-9755 rule.
func Valid(vrn string) bool {
	if len(vrn) != 9 || !isDigits(vrn) {
		return false
	}
	total := weightedSum(vrn)
	got := int(vrn[7]-'0')*10 + int(vrn[8]-'0')
	return got == check97(total) || got == check97(total+55)
}
