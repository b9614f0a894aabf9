package main

import (
	"os"

	"github.com/schollz/progressbar/v3"
)

// rangeBar is the progress bar of a range that run silver (hours) and run gold (days)
// work through, drawn by schollz/progressbar on a terminal only: the job's log lines
// say the same for logs. A range of one step has none.
type rangeBar struct{ bar *progressbar.ProgressBar }

func newRangeBar(f *os.File, steps int, what string) rangeBar {
	if steps < 2 || !isTerminal(f) {
		return rangeBar{}
	}
	return rangeBar{progressbar.NewOptions(steps, progressbar.OptionSetWriter(f), progressbar.OptionSetDescription(what),
		progressbar.OptionShowCount(), progressbar.OptionSetPredictTime(true), progressbar.OptionClearOnFinish())}
}

// add counts a step done.
func (b rangeBar) add() {
	if b.bar != nil {
		b.bar.Add(1)
	}
}

// describe says what the bar works on now.
func (b rangeBar) describe(what string) {
	if b.bar != nil {
		b.bar.Describe(what)
	}
}

// clear takes the bar off the line, so that a summary prints on a line of its own.
func (b rangeBar) clear() {
	if b.bar != nil {
		b.bar.Clear()
	}
}
