//go:build !unix

package remediate

import "os/exec"

// ownProcessGroup leaves cmd as it is: without process groups, the
// cancellation kills the command only, not its children.
func ownProcessGroup(cmd *exec.Cmd) {}
