package cache

import (
	"os"
	"path/filepath"
	"strings"
)

// partsDir is the directory, in the cache directory, of the links named after the
// partition directories of keys.
const partsDir = "parts"

// Cached files have flat names, so that a process indexes the cache with one read of
// one directory. A reader that takes meaning from a file's directories, as DuckDB's
// Hive partitioning takes partition values from col=value directories, needs them in
// the file's path instead: partPath gives each cached file whose key has them a
// symbolic link below the same directories, made once when the file is first acquired
// and kept with it. Before the links, every query made its own, which cost more than
// the rest of its setup; and only the partition directories are made, not the whole
// key's, since each directory made costs about as much as fetching a small file.
//
// A file's link sits in a directory of its own, named after the file, which eviction
// removes, under the file's exclusive lock, before it removes the file (removeUnheld):
// no holder of the file can lose its link, and a link outlives its file only after a
// crash between the two, which partPath repairs.

// partPath returns the path at which to read the cached file name of key: where key
// has partition directories (partitionSuffix), a link in name's link directory whose
// path ends with them and key's file name, made if need be; else, or where no link can
// be made, the file's own path, which serves every reader but the ones that read
// directory names.
func (c *Cache) partPath(key, name string) string {
	file := filepath.Join(c.dir, name)
	suffix, ok := partitionSuffix(key)
	if !ok {
		return file
	}
	link := filepath.Join(c.linkDir(name), filepath.FromSlash(suffix))
	if _, err := os.Stat(link); err == nil {
		return link
	}
	os.Remove(link) // a dangling link, from a crash during an eviction
	target, err := filepath.Rel(filepath.Dir(link), file)
	if err != nil {
		return file
	}
	if err := os.MkdirAll(filepath.Dir(link), 0o755); err != nil {
		c.log.Debug("no partition path", "key", key, "err", err)
		return file
	}
	// Relative, so that the cache directory may move. Another process may make the
	// same link at the same time; either one serves.
	if err := os.Symlink(target, link); err != nil && !os.IsExist(err) {
		c.log.Debug("no partition path", "key", key, "err", err)
		return file
	}
	return link
}

// linkDir is the directory of the link to the cached file name.
func (c *Cache) linkDir(name string) string {
	return filepath.Join(c.dir, partsDir, strings.TrimSuffix(name, ".parquet"))
}

// partitionSuffix is the part of key from its first col=value directory on, when key
// has one and is a relative path of names that every file system and DuckDB take as
// they are: none empty, "." or "..", too long, or holding a NUL, a backslash (a
// separator on Windows) or a character that DuckDB reads as a glob in a path it is
// given (* ? [).
func partitionSuffix(key string) (string, bool) {
	if key == "" || len(key) > 1024 {
		return "", false
	}
	parts := strings.Split(key, "/")
	first := -1
	for i, part := range parts {
		if part == "" || part == "." || part == ".." || len(part) > 255 || strings.ContainsAny(part, "\x00\\*?[") {
			return "", false
		}
		if first < 0 && i < len(parts)-1 && strings.Contains(part, "=") {
			first = i
		}
	}
	if first < 0 {
		return "", false
	}
	return strings.Join(parts[first:], "/"), true
}
