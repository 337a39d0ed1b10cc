package fraud

import (
	"net/http"
	"testing"
	"time"
)

func BenchmarkWriteToDesktopAppViaServer(b *testing.B) {
	f := exampleModel(b, DesktopAppViaServer)
	f.LocalIPsTimestamp = time.Now()
	f.PublicIPTimestamp = f.LocalIPsTimestamp
	h := make(http.Header, 32)
	b.ReportAllocs()
	for b.Loop() {
		if err := f.WriteTo(h); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkWriteToDesktopAppViaServerFreshHeader(b *testing.B) {
	f := exampleModel(b, DesktopAppViaServer)
	b.ReportAllocs()
	for b.Loop() {
		h := make(http.Header, 32)
		if err := f.WriteTo(h); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkValidateDesktopAppViaServer(b *testing.B) {
	h := exampleHeader(b, DesktopAppViaServer)
	b.ReportAllocs()
	for b.Loop() {
		if v := Validate(h); !v.Valid() {
			b.Fatal(v)
		}
	}
}

func BenchmarkParseDesktopAppViaServer(b *testing.B) {
	h := exampleHeader(b, DesktopAppViaServer)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Parse(h); err != nil {
			b.Fatal(err)
		}
	}
}
