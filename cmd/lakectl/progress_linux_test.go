package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
	"unsafe"
)

// TestRangeBarOnATerminalOnly: the bar of run silver's and run gold's ranges is drawn
// on a terminal (a pseudo-terminal here), with the step it works on and the count,
// and never into a file or for a range of one step.
func TestRangeBarOnATerminalOnly(t *testing.T) {
	master, term := openPTY(t)
	bar := newRangeBar(term, 3, "events")
	bar.describe("events 2026-11-21T08")
	bar.add()
	bar.clear()
	var got strings.Builder
	buf := make([]byte, 4096)
	master.SetReadDeadline(time.Now().Add(2 * time.Second))
	for !strings.Contains(got.String(), "1/3") {
		n, err := master.Read(buf)
		got.Write(buf[:n])
		if err != nil {
			break
		}
	}
	if !strings.Contains(got.String(), "events 2026-11-21T08") || !strings.Contains(got.String(), "1/3") {
		t.Errorf("bar on a terminal: %q, want the hour worked on and 1/3", got.String())
	}
	if newRangeBar(term, 1, "events").bar != nil {
		t.Error("a range of one step has a bar")
	}

	f, err := os.Create(filepath.Join(t.TempDir(), "stderr"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	bar = newRangeBar(f, 3, "events")
	bar.describe("events 2026-11-21T08")
	bar.add()
	bar.clear()
	if st, err := f.Stat(); err != nil || st.Size() != 0 {
		t.Errorf("bar into a file: %v bytes (%v), want none", st.Size(), err)
	}
}

// openPTY opens a pseudo-terminal pair: the master to read what the program wrote,
// the terminal to hand it.
func openPTY(t *testing.T) (master, term *os.File) {
	t.Helper()
	master, err := os.OpenFile("/dev/ptmx", os.O_RDWR|syscall.O_NOCTTY, 0)
	if err != nil {
		t.Fatalf("open a pseudo-terminal: %v", err)
	}
	t.Cleanup(func() { master.Close() })
	var unlock, n int32
	if _, _, errno := syscall.Syscall(syscall.SYS_IOCTL, master.Fd(), syscall.TIOCSPTLCK, uintptr(unsafe.Pointer(&unlock))); errno != 0 {
		t.Fatalf("unlock the pseudo-terminal: %v", errno)
	}
	if _, _, errno := syscall.Syscall(syscall.SYS_IOCTL, master.Fd(), syscall.TIOCGPTN, uintptr(unsafe.Pointer(&n))); errno != 0 {
		t.Fatalf("name the pseudo-terminal: %v", errno)
	}
	term, err = os.OpenFile(fmt.Sprintf("/dev/pts/%d", n), os.O_RDWR|syscall.O_NOCTTY, 0)
	if err != nil {
		t.Fatalf("open the pseudo-terminal: %v", err)
	}
	t.Cleanup(func() { term.Close() })
	return master, term
}
