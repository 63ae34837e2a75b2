package cluster

import (
	"errors"
	"fmt"
	"os"
	"os/user"
	"path/filepath"
	"strconv"
	"syscall"
)

// account is the unprivileged user that initdb and the server run as when
// this process is root. PostgreSQL refuses to run as root (a superuser SQL
// session could then take over the machine), and CI runs as root.
type account struct {
	name string
	uid  uint32
	gid  uint32
}

// serverAccount returns nil when this process is not root: the server then
// runs as the current user, which is what a developer expects on a laptop.
func serverAccount() (*account, error) {
	if os.Geteuid() != 0 {
		return nil, nil
	}
	// "postgres" exists wherever the server package is installed; "nobody"
	// exists everywhere else and owns nothing worth protecting.
	var errs []error
	for _, name := range []string{"postgres", "nobody"} {
		u, err := user.Lookup(name)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		uid, err := strconv.ParseUint(u.Uid, 10, 32)
		if err != nil {
			return nil, fmt.Errorf("user %s: uid %q: %w", name, u.Uid, err)
		}
		gid, err := strconv.ParseUint(u.Gid, 10, 32)
		if err != nil {
			return nil, fmt.Errorf("user %s: gid %q: %w", name, u.Gid, err)
		}
		return &account{name: name, uid: uint32(uid), gid: uint32(gid)}, nil
	}
	return nil, fmt.Errorf("running as root, and no unprivileged user to run PostgreSQL as: %w", errors.Join(errs...))
}

// credential makes a child process drop to the account. An empty Groups list
// clears root's supplementary groups, so the child holds only the account's
// primary group: canReach relies on that.
func (a *account) credential() *syscall.Credential {
	if a == nil {
		return nil
	}
	return &syscall.Credential{Uid: a.uid, Gid: a.gid}
}

// chown hands a file or directory we created to the account, so the server
// can write where root made room for it.
func (a *account) chown(path string) error {
	if a == nil {
		return nil
	}
	if err := os.Chown(path, int(a.uid), int(a.gid)); err != nil {
		return fmt.Errorf("chown %s to %s: %w", path, a.name, err)
	}
	return nil
}

// canReach reports whether the account may walk down to dir: every directory
// from / to dir must grant it search (x) permission. A directory under a 0700
// /root fails this, and initdb would stop with a bare "permission denied".
// ACLs are ignored, so the answer errs on the side of "no".
func (a *account) canReach(dir string) bool {
	if a == nil {
		return true
	}
	for p := dir; ; p = filepath.Dir(p) {
		fi, err := os.Stat(p)
		if err != nil {
			return false
		}
		st, ok := fi.Sys().(*syscall.Stat_t)
		if !ok {
			return false
		}
		var bit os.FileMode
		switch {
		case st.Uid == a.uid:
			bit = 0o100
		case st.Gid == a.gid:
			bit = 0o010
		default:
			bit = 0o001
		}
		if fi.Mode().Perm()&bit == 0 {
			return false
		}
		if parent := filepath.Dir(p); parent == p {
			return true
		}
	}
}
