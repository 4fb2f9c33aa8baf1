package collectd

import (
	"os"
	"path/filepath"
	"testing"

	"outpost/tsdb"
)

// benchPacket returns a realistic packet of the level: the first captured
// packet of collectd 5.12 (cpu, memory, load, interface, df; about 1.3 kB)
// when ../shared is present, else one built here of the same shape.
func benchPacket(b *testing.B, level string) []byte {
	if pkt, err := os.ReadFile(filepath.Join(sharedIngest, "collectd-packets", level, "pkt-001.bin")); err == nil {
		return pkt
	}
	var plain []byte
	plain = cat(hdr)
	for i := range 8 {
		plain = cat(plain, strPart(partPlugin, "cpu"), strPart(partPluginInstance, string(rune('0'+i))), strPart(partType, "cpu"))
		for _, ti := range []string{"user", "system", "idle"} {
			plain = cat(plain, strPart(partTypeInstance, ti), valuesPart(derive(int64(1000*i))))
		}
	}
	plain = cat(plain, loadParts, strPart(partPlugin, "interface"), strPart(partPluginInstance, "eth0"),
		strPart(partType, "if_octets"), strPart(partTypeInstance, ""), valuesPart(derive(1), derive(2)))
	switch level {
	case "sign":
		return signPacket(captureUser, capturePassword, plain)
	case "encrypt":
		return encryptPacket(captureUser, capturePassword, []byte("0123456789abcdef"), plain)
	}
	return plain
}

// BenchmarkParser_Parse decodes one packet per op and reports ns/sample
// and packets/s, per security level.
//
// Run: go test -run '^$' -bench 'BenchmarkParser_Parse' -benchtime 1s ./collectors/collectd/
func BenchmarkParser_Parse(b *testing.B) {
	auth := users{captureUser: capturePassword}
	for _, lv := range []struct {
		name  string
		level SecurityLevel
	}{{"none", None}, {"sign", Sign}, {"encrypt", Encrypt}} {
		b.Run(lv.name, func(b *testing.B) {
			pkt := benchPacket(b, lv.name)
			p := NewParser(lv.level, auth)
			samples := 0
			emit := func(vl *ValueList) { samples += len(vl.Values) }
			b.SetBytes(int64(len(pkt)))
			b.ReportAllocs()
			for b.Loop() {
				if _, err := p.Parse(pkt, emit); err != nil {
					b.Fatal(err)
				}
			}
			reportRates(b, samples)
		})
	}
}

// BenchmarkParser_ParseAndName adds the naming of each value list (labels
// from the cache, one tsdb.Point per value): the listener's work per packet
// short of the store.
//
// Run: go test -run '^$' -bench 'BenchmarkParser_ParseAndName' -benchtime 1s ./collectors/collectd/
func BenchmarkParser_ParseAndName(b *testing.B) {
	pkt := benchPacket(b, "none")
	p := NewParser(None, nil)
	m := newMapper(BuiltinTypesDB())
	pts := make([]tsdb.Point, 0, 256)
	d := drops{}
	samples := 0
	emit := func(vl *ValueList) { pts = m.appendPoints(pts, vl, 0, d) }
	b.SetBytes(int64(len(pkt)))
	b.ReportAllocs()
	for b.Loop() {
		pts = pts[:0]
		if _, err := p.Parse(pkt, emit); err != nil {
			b.Fatal(err)
		}
		samples += len(pts)
	}
	reportRates(b, samples)
}

// reportRates reports ns/sample and packets/s over the timed loop.
func reportRates(b *testing.B, samples int) {
	elapsed := b.Elapsed()
	if samples == 0 {
		b.Fatal("no samples")
	}
	b.ReportMetric(float64(elapsed.Nanoseconds())/float64(samples), "ns/sample")
	b.ReportMetric(float64(b.N)/elapsed.Seconds(), "packets/s")
}
