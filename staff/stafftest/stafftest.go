// Package stafftest holds what tests outside staff need to build a staff
// service cheaply. Only tests import it.
package stafftest

import "waymark/staff"

// Params are cheap argon2id parameters for tests that hash many
// passwords. staff.NewService accepts them only inside a test binary.
func Params() staff.Params {
	return staff.Params{Memory: 64, Time: 1, Threads: 1, SaltLen: 16, KeyLen: 32, Cheap: true}
}
