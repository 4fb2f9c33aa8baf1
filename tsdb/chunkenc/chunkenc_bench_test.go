package chunkenc

import (
	"math/rand/v2"
	"testing"
	"time"
)

// Benchmarks of the chunk codec on realistic shapes: one chunk is 360
// samples at exactly 10 s, one epoch of a 10 s scrape. Each reports
// ns/sample and B/sample (encoded size); MB/s counts 16 raw bytes a sample.
//
// Reproduce:
//
//	go test ./tsdb/chunkenc -run '^$' -bench . -benchtime 2000x -count 6 > new.txt
//	benchstat old.txt new.txt

const benchSamples = 360

type benchShape struct {
	name string
	ts   []int64
	vs   []float64
}

// benchShapes returns the data shapes: full-precision random walk, integer
// counter, constant, 2-decimal gauge, and the random walk again with
// jittered timestamps.
func benchShapes() []benchShape {
	r := rand.New(rand.NewPCG(15, 16))
	reg := regularTimes(benchSamples, epochStart, 10_000)
	return []benchShape{
		{"walk", reg, randomWalk(r, benchSamples)},
		{"counter", reg, counter(r, benchSamples)},
		{"const", reg, constant(benchSamples, 1)},
		{"gauge2", reg, gauge2(r, benchSamples)},
		{"walk-jitter", jitterTimes(r, benchSamples, epochStart, 10_000, 25), randomWalk(r, benchSamples)},
	}
}

// report adds ns/sample and B/sample for b.N chunks of benchSamples
// samples, size bytes each.
func report(b *testing.B, elapsed time.Duration, size int) {
	b.ReportMetric(float64(elapsed.Nanoseconds())/float64(b.N*benchSamples), "ns/sample")
	b.ReportMetric(float64(size)/benchSamples, "B/sample")
}

func BenchmarkXOR_Append(b *testing.B) {
	for _, s := range benchShapes() {
		b.Run(s.name, func(b *testing.B) {
			b.ReportAllocs()
			b.SetBytes(benchSamples * 16)
			var c *XOR
			start := time.Now()
			for range b.N {
				c = NewXOR()
				for i, t := range s.ts {
					_ = c.Append(t, s.vs[i])
				}
			}
			report(b, time.Since(start), len(c.Bytes()))
		})
	}
}

func BenchmarkEncode(b *testing.B) {
	for _, s := range benchShapes() {
		b.Run(s.name, func(b *testing.B) {
			b.ReportAllocs()
			b.SetBytes(benchSamples * 16)
			var dst []byte
			start := time.Now()
			for range b.N {
				var err error
				if dst, err = Encode(dst[:0], s.ts, s.vs); err != nil {
					b.Fatal(err)
				}
			}
			report(b, time.Since(start), len(dst))
		})
	}
}

func BenchmarkIterator(b *testing.B) {
	for _, s := range benchShapes() {
		sealed, err := Encode(nil, s.ts, s.vs)
		if err != nil {
			b.Fatal(err)
		}
		head := NewXOR()
		for i, t := range s.ts {
			_ = head.Append(t, s.vs[i])
		}
		for _, form := range []struct {
			name string
			b    []byte
		}{{"sealed", sealed}, {"head", head.Bytes()}} {
			b.Run(s.name+"/"+form.name, func(b *testing.B) {
				benchIterate(b, form.b)
			})
		}
	}
}

func benchIterate(b *testing.B, chunk []byte) {
	b.ReportAllocs()
	b.SetBytes(benchSamples * 16)
	var it Iterator
	var sum float64
	start := time.Now()
	for range b.N {
		_ = it.Reset(chunk)
		for it.Next() {
			_, v := it.At()
			sum += v
		}
	}
	report(b, time.Since(start), len(chunk))
	if it.Err() != nil {
		b.Fatal(it.Err())
	}
	_ = sum
}

func BenchmarkDecode(b *testing.B) {
	for _, s := range benchShapes() {
		chunk, err := Encode(nil, s.ts, s.vs)
		if err != nil {
			b.Fatal(err)
		}
		b.Run(s.name, func(b *testing.B) {
			b.ReportAllocs()
			b.SetBytes(benchSamples * 16)
			ts, vs := make([]int64, 0, benchSamples), make([]float64, 0, benchSamples)
			start := time.Now()
			for range b.N {
				if ts, vs, err = Decode(chunk, ts[:0], vs[:0]); err != nil {
					b.Fatal(err)
				}
			}
			report(b, time.Since(start), len(chunk))
		})
	}
}
