package arena

// rect is an axis-aligned wall.
type rect struct{ x, y, w, h float64 }

// walls of the field; the field's edges are walls too.
var walls = [...]rect{
	{300, 200, 40, 220},
	{1260, 480, 40, 220},
	{700, 430, 200, 40},
	{480, 660, 160, 40},
	{960, 200, 160, 40},
}

type point struct{ x, y float64 }

// spawns of team 1 (left) and team 2 (right); duel and ffa use both.
var spawns = [2][4]point{
	{{100, 100}, {100, 800}, {200, 450}, {560, 300}},
	{{1500, 800}, {1500, 100}, {1400, 450}, {1040, 600}},
}

// blocked reports whether a circle of radius r at (x, y) overlaps a wall
// or leaves the field.
func blocked(x, y, r float64) bool {
	if x < r || y < r || x > Width-r || y > Height-r {
		return true
	}
	for _, w := range walls {
		cx := clamp(x, w.x, w.x+w.w)
		cy := clamp(y, w.y, w.y+w.h)
		dx, dy := x-cx, y-cy
		if dx*dx+dy*dy < r*r {
			return true
		}
	}
	return false
}

func clamp(v, lo, hi float64) float64 {
	if v < lo {
		return lo
	}
	if v > hi {
		return hi
	}
	return v
}
