package influx

import (
	"fmt"
	"math/rand/v2"
	"strconv"
	"testing"
	"time"

	"github.com/influxdata/line-protocol/v2/lineprotocol"
)

// Run with:
//
//	go test -run '^$' -bench 'Parse' -benchtime 2s ./collectors/influx/
//
// ns/sample is the figure to watch (target < 150 ns, 0-1 allocs/sample).

var cpuFieldNames = []string{"usage_user", "usage_system", "usage_idle", "usage_nice", "usage_iowait",
	"usage_irq", "usage_softirq", "usage_steal", "usage_guest", "usage_guest_nice"}

// benchTags returns the TSBS-like tag set of host i, as lpload writes it.
func benchTags(i int, rng *rand.Rand) string {
	regions := []string{"us-east-1", "us-west-1", "eu-west-1", "ap-southeast-2"}
	r := regions[i%len(regions)]
	return fmt.Sprintf(",hostname=host_%d,region=%s,datacenter=%s%c,rack=%d,os=Ubuntu22.04LTS,arch=x64,"+
		"team=%s,service=%d,service_version=%d,service_environment=%s",
		i, r, r, 'a'+rune(i%3), rng.IntN(100), []string{"SF", "NYC", "LON", "CHI"}[i%4],
		rng.IntN(20), rng.IntN(2), []string{"production", "staging", "test"}[i%3])
}

// cpuOnlyBody is lines of `cpu,<11 tags> <10 float fields> <ns>`: the
// lpload cpu-only workload. It returns the body and its sample count.
func cpuOnlyBody(lines int) ([]byte, int) {
	rng := rand.New(rand.NewPCG(1, 2))
	hosts := 100
	tags := make([]string, hosts)
	for i := range tags {
		tags[i] = benchTags(i, rng)
	}
	ts := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	var b []byte
	for l := 0; l < lines; l++ {
		b = append(b, "cpu"...)
		b = append(b, tags[l%hosts]...)
		b = append(b, ' ')
		for j, f := range cpuFieldNames {
			if j > 0 {
				b = append(b, ',')
			}
			b = append(b, f...)
			b = append(b, '=')
			b = strconv.AppendFloat(b, rng.Float64()*100, 'f', -1, 64)
		}
		b = append(b, ' ')
		b = strconv.AppendInt(b, ts.Add(time.Duration(l/hosts)*10*time.Second).UnixNano(), 10)
		b = append(b, '\n')
	}
	return b, lines * len(cpuFieldNames)
}

// telegrafBody is a Telegraf-like mix per host and step: cpu (10 floats),
// mem, disk, net (integers), system (a float, integers and a string).
func telegrafBody(steps int) ([]byte, int) {
	rng := rand.New(rand.NewPCG(3, 4))
	var b []byte
	n := 0
	ts := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC).UnixNano()
	for s := 0; s < steps; s++ {
		host := "host_" + strconv.Itoa(s%50)
		t := strconv.FormatInt(ts+int64(s/50)*10e9, 10)
		b = append(b, "cpu,cpu=cpu-total,host="+host+" "...)
		for j, f := range cpuFieldNames {
			if j > 0 {
				b = append(b, ',')
			}
			b = append(b, f...)
			b = append(b, '=')
			b = strconv.AppendFloat(b, rng.Float64()*100, 'f', -1, 64)
		}
		b = append(b, " "+t+"\n"...)
		b = fmt.Appendf(b, "mem,host=%s total=17179869184i,available=%di,used_percent=%g %s\n",
			host, rng.Int64N(1<<34), rng.Float64()*100, t)
		b = fmt.Appendf(b, "disk,device=sda1,fstype=ext4,host=%s,mode=rw,path=/ total=107374182400i,"+
			"free=%di,used=%di,used_percent=%g,inodes_free=%di,inodes_used=%di %s\n",
			host, rng.Int64N(1<<36), rng.Int64N(1<<36), rng.Float64()*100, rng.Int64N(1<<20), rng.Int64N(1<<20), t)
		b = fmt.Appendf(b, "net,host=%s,interface=eth0 bytes_recv=%di,bytes_sent=%di,packets_recv=%di,"+
			"packets_sent=%di,err_in=0i,err_out=0i,drop_in=0i,drop_out=0i %s\n",
			host, rng.Int64N(1<<40), rng.Int64N(1<<40), rng.Int64N(1<<30), rng.Int64N(1<<30), t)
		b = fmt.Appendf(b, "system,host=%s load1=%.2f,load5=%.2f,load15=%.2f,n_cpus=2i,uptime=%di %s\n",
			host, rng.Float64()*4, rng.Float64()*4, rng.Float64()*4, s, t)
		b = fmt.Appendf(b, "system,host=%s uptime_format=\" 0:%02d\" %s\n", host, s%60, t)
		n += 10 + 3 + 6 + 8 + 5 + 1
	}
	return b, n
}

func benchParse(b *testing.B, body []byte, samples int) {
	b.Helper()
	b.ReportAllocs()
	b.SetBytes(int64(len(body)))
	p := new(Parser)
	opts := ParseOptions{DB: "bench", Now: time.Now()}
	b.ResetTimer()
	for b.Loop() {
		p.Reset(body, opts)
		n := 0
		for {
			pts := p.Next(DefaultBatchPoints)
			if pts == nil {
				break
			}
			n += len(pts)
		}
		if n != samples {
			b.Fatalf("parsed %d samples, want %d (err %v)", n, samples, p.Err())
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/float64(samples), "ns/sample")
}

// BenchmarkParse_CPUOnly: 5,000 lines, 50,000 samples, as one lpload request.
func BenchmarkParse_CPUOnly(b *testing.B) {
	body, samples := cpuOnlyBody(5000)
	benchParse(b, body, samples)
}

// BenchmarkParse_Telegraf: a Telegraf-like mix of 6,000 lines.
func BenchmarkParse_Telegraf(b *testing.B) {
	body, samples := telegrafBody(1000)
	benchParse(b, body, samples)
}

// BenchmarkDecoderOnly_CPUOnly is the floor under BenchmarkParse_CPUOnly:
// the line-protocol decoder walking the same body (tags, raw field values,
// timestamps) with no value parsing and no mapping.
func BenchmarkDecoderOnly_CPUOnly(b *testing.B) {
	body, samples := cpuOnlyBody(5000)
	b.ReportAllocs()
	b.SetBytes(int64(len(body)))
	for b.Loop() {
		dec := lineprotocol.NewDecoderWithBytes(body)
		n := 0
		for dec.Next() {
			if _, err := dec.Measurement(); err != nil {
				b.Fatal(err)
			}
			for {
				k, _, err := dec.NextTag()
				if err != nil {
					b.Fatal(err)
				}
				if k == nil {
					break
				}
			}
			for {
				k, _, _, err := dec.NextFieldBytes()
				if err != nil {
					b.Fatal(err)
				}
				if k == nil {
					break
				}
				n++
			}
			if _, err := dec.TimeBytes(); err != nil {
				b.Fatal(err)
			}
		}
		if n != samples {
			b.Fatalf("%d fields, want %d", n, samples)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/float64(samples), "ns/sample")
}
