package lake_test

import (
	"fmt"
	"testing"

	"github.com/lakectl/lakectl/internal/s3server"
	"github.com/lakectl/lakectl/lake/deltatest"
	"github.com/lakectl/lakectl/lake/mem"
)

// chaosSeeds are the seeds every backend runs; each fixes a plan of writes and a mix
// of faults (not the schedule, which the goroutines decide).
var chaosSeeds = []uint64{1, 2, 3, 4, 5, 6}

func TestChaosMem(t *testing.T) {
	for _, seed := range chaosSeeds {
		t.Run(fmt.Sprint("seed", seed), func(t *testing.T) {
			deltatest.Chaos(t, mem.New(), deltatest.ChaosConfig{Seed: seed})
		})
	}
}

func TestChaosFS(t *testing.T) {
	for _, seed := range chaosSeeds {
		t.Run(fmt.Sprint("seed", seed), func(t *testing.T) {
			deltatest.Chaos(t, newFS(t), deltatest.ChaosConfig{Seed: seed})
		})
	}
}

// TestChaosS3 runs two seeds against a real S3 server (versitygw on loopback), faults
// injected between lakectl and the server.
func TestChaosS3(t *testing.T) {
	srv := s3server.Start(t, s3server.VersityGW)
	for _, seed := range chaosSeeds[:2] {
		t.Run(fmt.Sprint("seed", seed), func(t *testing.T) {
			deltatest.Chaos(t, srv.Store(t), deltatest.ChaosConfig{Seed: seed})
		})
	}
}

func TestCrashSweepMem(t *testing.T) { deltatest.CrashSweep(t, newMem) }

func TestCrashSweepFS(t *testing.T) { deltatest.CrashSweep(t, newFS) }
