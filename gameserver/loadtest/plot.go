package loadtest

import (
	"fmt"
	"os"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/plotutil"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
	"gonum.org/v1/plot/vg/vgimg"
)

// Plot draws players against p99 tick time, CPU and RSS, for the bare
// loop and the gameserver, into a PNG file.
func Plot(path string, steps []Step) error {
	series := func(f func(Step) float64) plotter.XYs {
		xy := make(plotter.XYs, len(steps))
		for i, s := range steps {
			xy[i].X, xy[i].Y = float64(s.Players), f(s)
		}
		return xy
	}
	panel := func(title, unit string, bare, real func(Step) float64) (*plot.Plot, error) {
		p := plot.New()
		p.Title.Text = title
		p.X.Label.Text = "players (connections)"
		p.Y.Label.Text = unit
		p.Y.Min = 0
		if err := plotutil.AddLinePoints(p, "bare 100-byte loop", series(bare), "skirmish (Arena ffa, 8 per room)", series(real)); err != nil {
			return nil, err
		}
		p.Legend.Top = true
		p.Legend.Left = true
		return p, nil
	}
	ms := func(r StepResult) float64 { return float64(r.TickP99.Microseconds()) / 1000 }
	tick, err := panel("p99 tick time (bare: all writes of a tick; skirmish: room tick, histogram bucket bound)", "ms",
		func(s Step) float64 { return ms(s.Bare) }, func(s Step) float64 { return ms(s.Real) })
	if err != nil {
		return err
	}
	cpu, err := panel("CPU of the server process (its clients run in another)", "cores",
		func(s Step) float64 { return s.Bare.CPU }, func(s Step) float64 { return s.Real.CPU })
	if err != nil {
		return err
	}
	mem, err := panel("resident memory of the server process", "MiB",
		func(s Step) float64 { return s.Bare.RSSMiB }, func(s Step) float64 { return s.Real.RSSMiB })
	if err != nil {
		return err
	}
	delivered, err := panel("messages delivered / due (holds at >= 98%)", "%",
		func(s Step) float64 { return 100 * s.Bare.DeliveredRatio }, func(s Step) float64 { return 100 * s.Real.DeliveredRatio })
	if err != nil {
		return err
	}
	plots := [][]*plot.Plot{{tick, delivered}, {cpu, mem}}
	img := vgimg.New(vg.Points(1200), vg.Points(800))
	dc := draw.New(img)
	tiles := draw.Tiles{Rows: 2, Cols: 2, PadX: vg.Millimeter * 4, PadY: vg.Millimeter * 4,
		PadTop: vg.Millimeter * 2, PadBottom: vg.Millimeter * 2, PadLeft: vg.Millimeter * 2, PadRight: vg.Millimeter * 2}
	canvases := plot.Align(plots, tiles, dc)
	for i := range plots {
		for j := range plots[i] {
			plots[i][j].Draw(canvases[i][j])
		}
	}
	f, err := os.Create(path)
	if err != nil {
		return fmt.Errorf("plot: %w", err)
	}
	if _, err := (vgimg.PngCanvas{Canvas: img}).WriteTo(f); err != nil {
		f.Close()
		return fmt.Errorf("plot: %w", err)
	}
	return f.Close()
}
