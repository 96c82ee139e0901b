package matchmaker

import (
	"cmp"
	"math"
	"slices"
)

// sortKey is a value to sort by and what it belongs to.
type sortKey struct {
	key uint64
	val int32
}

// floatKey maps a float64 to a uint64 of the same order (negative numbers
// below positive ones), so that floats sort as integers.
func floatKey(f float64) uint64 {
	b := math.Float64bits(f)
	if b>>63 != 0 {
		return ^b
	}
	return b | 1<<63
}

// sortKeys sorts keys by key, stably, and returns the sorted slice: keys
// or buf, which must be as long. A least-significant-digit radix sort, a
// byte at a time, skipping the bytes all keys share: O(n) where a
// comparison sort of 100,000 keys costs ten times as much. Short inputs
// get a comparison sort, with val breaking ties, which is what stability
// gives when keys come in order of val.
func sortKeys(keys, buf []sortKey) []sortKey {
	if len(keys) < 256 {
		slices.SortFunc(keys, func(a, b sortKey) int {
			if c := cmp.Compare(a.key, b.key); c != 0 {
				return c
			}
			return cmp.Compare(a.val, b.val)
		})
		return keys
	}
	buf = buf[:len(keys)]
	for shift := 0; shift < 64; shift += 8 {
		var count [256]int
		for _, k := range keys {
			count[byte(k.key>>shift)]++
		}
		if count[byte(keys[0].key>>shift)] == len(keys) {
			continue
		}
		sum := 0
		for i, c := range count {
			count[i] = sum
			sum += c
		}
		for _, k := range keys {
			d := byte(k.key >> shift)
			buf[count[d]] = k
			count[d]++
		}
		keys, buf = buf, keys
	}
	return keys
}
