package cache

import (
	"os"
	"path/filepath"
	"strings"
)

// keysDir is the directory, in the cache directory, of the links named after keys.
const keysDir = "keys"

// Cached files have flat names, so that a process indexes the cache with one read of
// one directory. A reader that takes meaning from a file's directories, as DuckDB's Hive
// partitioning takes partition values from col=value directories, needs the key's path
// instead: keyPath gives each cached file a symbolic link whose path ends with its key,
// made once when the file is first acquired and kept with it. Before the links, every
// query made its own, which cost more than the rest of its setup.
//
// A file's links sit in a directory of its own, named after the file, which eviction
// removes, under the file's exclusive lock, before it removes the file (removeUnheld):
// no holder of the file can lose its link, and a link outlives its file only after a
// crash between the two, which keyPath repairs.

// keyPath returns the path of the cached file name that ends with key: a link to it in
// name's key directory, made if need be. Where key is not a plain relative path or no
// link can be made, it returns the file's own path, which serves every reader but the
// ones that read directory names.
func (c *Cache) keyPath(key, name string) string {
	file := filepath.Join(c.dir, name)
	if !plainRelPath(key) {
		return file
	}
	link := filepath.Join(c.keyDir(name), filepath.FromSlash(key))
	if _, err := os.Stat(link); err == nil {
		return link
	}
	os.Remove(link) // a dangling link, from a crash during an eviction
	target, err := filepath.Rel(filepath.Dir(link), file)
	if err != nil {
		return file
	}
	if err := os.MkdirAll(filepath.Dir(link), 0o755); err != nil {
		c.log.Debug("no key path", "key", key, "err", err)
		return file
	}
	// Relative, so that the cache directory may move. Another process may make the
	// same link at the same time; either one serves.
	if err := os.Symlink(target, link); err != nil && !os.IsExist(err) {
		c.log.Debug("no key path", "key", key, "err", err)
		return file
	}
	return link
}

// keyDir is the directory of the links to the cached file name.
func (c *Cache) keyDir(name string) string {
	return filepath.Join(c.dir, keysDir, strings.TrimSuffix(name, ".parquet"))
}

// plainRelPath reports whether key, split at slashes, is a relative path of names that
// every file system and DuckDB take as they are: none empty, "." or "..", too long, or
// holding a NUL, a backslash (a separator on Windows) or a character that DuckDB reads
// as a glob in a path it is given (* ? [).
func plainRelPath(key string) bool {
	if key == "" || len(key) > 1024 {
		return false
	}
	for part := range strings.SplitSeq(key, "/") {
		if part == "" || part == "." || part == ".." || len(part) > 255 || strings.ContainsAny(part, "\x00\\*?[") {
			return false
		}
	}
	return true
}
