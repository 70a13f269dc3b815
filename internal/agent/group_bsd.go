//go:build unix && !linux

package agent

// groupAlive reports whether a process of group pgid exists; where there
// is no /proc to tell zombies apart, a zombie counts until it is reaped.
func groupAlive(pgid int) bool { return groupExists(pgid) }
