package redact

import (
	"strings"
	"testing"
)

// benign4K is the hot path: model output with numbers and punctuation but
// nothing to redact.
var benign4K = strings.Repeat("Sure! Here's a summary of the quarterly report. Revenue grew 12% year over year "+
	"to $4.2 billion, driven mostly by the cloud segment, while operating margin improved from 18.5% to 21.3%. "+
	"The company hired 1,200 new employees in 2023 and opened offices in Berlin, Singapore and Toronto. "+
	"Management expects growth to slow in the second half because of currency headwinds and a tougher "+
	"comparison with last year's strong results. Key risks include supply-chain constraints, rising interest "+
	"rates, and regulatory scrutiny of AI products in the EU (see section 4.2: \"Outlook\"). In summary, the "+
	"business is healthy: customers renew at a 95% rate and free cash flow covers the dividend comfortably.\n\n", 7)[:4096]

// findings4K is benign4K with an email, an AWS key ID and a card number.
var findings4K = func() string {
	s := benign4K[:1000] + " Contact jane.doe@example.com for details." +
		benign4K[1000:2000] + " The key " + awsKeyID + " was rotated." +
		benign4K[2000:3000] + " Card 4111 1111 1111 1111 was charged." + benign4K[3000:]
	return s[:4096]
}()

func BenchmarkRedact(b *testing.B) {
	r := New()
	for _, bc := range []struct{ name, in string }{{"benign4K", benign4K}, {"findings3_4K", findings4K}} {
		if _, fs := r.Redact(bc.in); (len(fs) == 0) != (bc.in == benign4K) {
			b.Fatalf("%s: %d findings", bc.name, len(fs))
		}
		b.Run(bc.name, func(b *testing.B) {
			b.SetBytes(int64(len(bc.in)))
			b.ReportAllocs()
			for b.Loop() {
				r.Redact(bc.in)
			}
		})
	}
}

func BenchmarkStreamWrite(b *testing.B) {
	r := New()
	for _, bc := range []struct{ name, in string }{{"benign4K", benign4K}, {"findings3_4K", findings4K}} {
		for _, size := range []int{16, 512} {
			chunks := chunk(bc.in, size)
			b.Run(bc.name+"/chunk"+itoa(size), func(b *testing.B) {
				b.SetBytes(int64(len(bc.in)))
				b.ReportAllocs()
				for b.Loop() {
					st := r.NewStream()
					for _, c := range chunks {
						st.Write(c)
					}
					st.Flush()
				}
			})
		}
	}
}

func itoa(n int) string {
	if n < 10 {
		return string(rune('0' + n))
	}
	return itoa(n/10) + string(rune('0'+n%10))
}
