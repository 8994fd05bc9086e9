package codeword

// within reports whether the optimal string alignment distance between a
// and b (insertions, deletions, substitutions and transpositions of two
// adjacent runes, each costing one) is at most k. Only the band of cells
// with |i-j| <= k is computed and it stops as soon as a whole row exceeds
// k, so the cost is O(len(a)·(2k+1)) and usually far less. buf, when it
// holds 3·(len(b)+1) cells, is used for the rows instead of allocating.
func within(a, b []rune, k int, buf []int32) bool {
	if d := len(a) - len(b); d > k || -d > k {
		return false
	}
	n := len(b)
	const big = 1 << 30
	if len(buf) < 3*(n+1) {
		buf = make([]int32, 3*(n+1))
	}
	prev2, prev, cur := buf[:n+1], buf[n+1:2*(n+1)], buf[2*(n+1):3*(n+1)]
	for j := range prev {
		prev[j] = int32(j)
	}
	k32 := int32(k)
	for i := 1; i <= len(a); i++ {
		lo, hi := max(1, i-k), min(n, i+k)
		cur[0] = int32(i)
		if lo > 1 {
			cur[lo-1] = big
		}
		rowMin := int32(big)
		if lo == 1 {
			rowMin = int32(i)
		}
		ai := a[i-1]
		for j := lo; j <= hi; j++ {
			v := prev[j-1]
			if ai != b[j-1] {
				v++
			}
			v = min(v, prev[j]+1, cur[j-1]+1)
			if i > 1 && j > 1 && ai == b[j-2] && a[i-2] == b[j-1] {
				v = min(v, prev2[j-2]+1)
			}
			cur[j] = v
			rowMin = min(rowMin, v)
		}
		if hi < n {
			cur[hi+1] = big
		}
		if rowMin > k32 {
			return false
		}
		prev2, prev, cur = prev, cur, prev2
	}
	return prev[n] <= k32
}
