package bronze

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/lakectl/lakectl/internal/flock"
)

// InstanceClaim is a static group member id (Config.InstanceID) that this process
// holds on its host until Release or until it exits, however it exits.
type InstanceClaim struct {
	ID   string
	Slot int // the replica's number on this host, from 0
	lock *os.File
}

// Release gives the id up, for the next process on this host to claim.
func (c *InstanceClaim) Release() error { return c.lock.Close() }

// maxSlots bounds the replicas of one pipeline on one host.
const maxSlots = 64

// ClaimInstanceID claims the default static member id of an ingest process:
// "<host>-<scope hash>-<slot>". scope names what the process ingests (lakectl
// passes the consumer group and the lake URL), so the id stays the same across
// restarts of the same service on the same host, which is what lets a restart
// after a crash take its partitions back at once (KIP-345) instead of waiting for
// the group to expire the dead member.
//
// Two replicas on one host must not share an id: the second would fence the first.
// The slot tells them apart: each process takes the lowest slot whose lock file in
// lockDir no other process holds (an exclusive flock, which the kernel releases
// when the holder dies, even by SIGKILL). A replica that crashes and restarts finds
// its slot free again and gets its old id back. Replicas that share a host name but
// not lockDir (containers with the host's network but their own /tmp) would get the
// same id and must be given one each (--instance-id).
func ClaimInstanceID(lockDir, host, scope string) (*InstanceClaim, error) {
	sum := sha256.Sum256([]byte(scope))
	hash := hex.EncodeToString(sum[:4])
	if err := os.MkdirAll(lockDir, 0o777); err != nil {
		return nil, fmt.Errorf("claim an instance id: %w", err)
	}
	for slot := range maxSlots {
		path := filepath.Join(lockDir, fmt.Sprintf("ingest-%s-%d.lock", hash, slot))
		f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o666)
		if err != nil {
			return nil, fmt.Errorf("claim an instance id: %w", err)
		}
		ok, err := flock.TryLock(f, flock.Exclusive)
		if err != nil {
			f.Close()
			return nil, fmt.Errorf("claim an instance id: %w", err)
		}
		if ok {
			id := fmt.Sprintf("%s-%s-%d", instanceIDPart(host), hash, slot)
			return &InstanceClaim{ID: id, Slot: slot, lock: f}, nil
		}
		f.Close()
	}
	return nil, fmt.Errorf("claim an instance id: %d ingest processes of this pipeline already run on this host (locks in %s)", maxSlots, lockDir)
}

// instanceIDPart keeps the characters Kafka allows in an instance id (those of a
// topic name) and bounds the length, well under Kafka's 249.
func instanceIDPart(s string) string {
	s = strings.Map(func(r rune) rune {
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9', r == '.', r == '_', r == '-':
			return r
		}
		return '_'
	}, s)
	if s == "" {
		s = "host"
	}
	return s[:min(len(s), 200)]
}
