// Package netlab makes several hosts on one machine for tests that need a
// network between processes: each host is a Linux network namespace with its
// own loopback and one address on a bridge that joins them, so a process
// bound to a host's address is reachable from the other hosts (and from the
// test, through the bridge's address) and nothing else, and a host can be cut
// off the network and healed.
//
// It drives iproute2 (`ip netns`, `ip link`, `ip addr`) and needs root
// (CAP_NET_ADMIN and CAP_SYS_ADMIN), which CI has. Addresses come from
// 198.18.0.0/15, the range RFC 2544 sets aside for network benchmarks: it
// routes nowhere, so no host address can collide with a real one. Traffic
// never leaves the bridge, which has no uplink.
//
// Names of interfaces and namespaces carry the test process's pid, so that
// labs of tests running at once do not collide and New can remove what a
// killed test left behind.
package netlab

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
)

// prefix starts the name of every namespace and link a lab makes.
const prefix = "sk"

// Lab is a bridge and the hosts on it. Close removes them.
type Lab struct {
	id     string // prefix + pid + lab number: unique per live lab
	bridge string
	gw     netip.Addr // the bridge's own address: how the test reaches hosts
	hosts  []*Host
}

// Host is one network namespace with an address on the lab's bridge.
type Host struct {
	Name string     // e.g. "redis", for logs
	NS   string     // the namespace, for `ip netns exec`
	Addr netip.Addr // its address on the bridge
	veth string     // the host end of its veth pair, in the root namespace
}

// New makes a lab with one host per name, numbered from 198.18.N.1 in a
// /24 that no other lab on the machine uses, with the test's side of the
// bridge at 198.18.N.254. It first removes namespaces and links that labs
// of processes no longer running left behind.
func New(ctx context.Context, names ...string) (*Lab, error) {
	if os.Geteuid() != 0 {
		return nil, errors.New("netlab needs root to make network namespaces")
	}
	if _, err := exec.LookPath("ip"); err != nil {
		return nil, fmt.Errorf("netlab needs iproute2: %w", err)
	}
	if len(names) == 0 || len(names) > 200 {
		return nil, fmt.Errorf("netlab: %d hosts, want 1 to 200", len(names))
	}
	bridges := sweep(ctx)
	// Linux allows 15 bytes for an interface name: "sk" + the pid in hex
	// (at most 6 digits) + "-" + a letter a lab, then "b" or "v" and a host.
	// The lab takes the first letter this process's live labs do not use.
	n := 1
	for n <= 26 && bridges[fmt.Sprintf("%s%x-%cb", prefix, os.Getpid(), 'a'+n-1)] {
		n++
	}
	if n > 26 {
		return nil, errors.New("netlab: at most 26 labs at once in a process")
	}
	l := &Lab{id: fmt.Sprintf("%s%x-%c", prefix, os.Getpid(), 'a'+n-1)}
	l.bridge = l.id + "b"
	// The subnet must be free machine-wide: test binaries of several
	// packages make labs at once. A file lock orders them.
	lock, err := os.OpenFile(filepath.Join(os.TempDir(), "skirmish-netlab.lock"), os.O_CREATE|os.O_RDWR, 0o600)
	if err != nil {
		return nil, fmt.Errorf("netlab: %w", err)
	}
	defer lock.Close() // closing releases the lock
	if err := syscall.Flock(int(lock.Fd()), syscall.LOCK_EX); err != nil {
		return nil, fmt.Errorf("netlab: lock: %w", err)
	}
	subnet, err := freeSubnet(ctx)
	if err != nil {
		return nil, err
	}
	l.gw = netip.AddrFrom4([4]byte{198, 18, subnet, 254})
	if len(l.bridge) > 15 {
		return nil, fmt.Errorf("netlab: interface name %q too long", l.bridge)
	}
	fail := func(err error) (*Lab, error) {
		l.Close(context.WithoutCancel(ctx))
		return nil, err
	}
	if err := ip(ctx, "", "link", "add", l.bridge, "type", "bridge"); err != nil {
		return fail(err)
	}
	if err := ip(ctx, "", "addr", "add", l.gw.String()+"/24", "dev", l.bridge); err != nil {
		return fail(err)
	}
	if err := ip(ctx, "", "link", "set", l.bridge, "up"); err != nil {
		return fail(err)
	}
	for i, name := range names {
		h := &Host{Name: name, NS: fmt.Sprintf("%s-%d", l.id, i), Addr: netip.AddrFrom4([4]byte{198, 18, subnet, byte(i + 1)}),
			veth: fmt.Sprintf("%sv%d", l.id, i)}
		if len(h.veth) > 15 {
			return fail(fmt.Errorf("netlab: interface name %q too long", h.veth))
		}
		l.hosts = append(l.hosts, h)
		steps := [][]string{
			{"netns", "add", h.NS},
			{"link", "add", h.veth, "type", "veth", "peer", "name", "eth0", "netns", h.NS},
			{"link", "set", h.veth, "master", l.bridge, "up"},
		}
		for _, s := range steps {
			if err := ip(ctx, "", s...); err != nil {
				return fail(err)
			}
		}
		inNS := [][]string{
			{"link", "set", "lo", "up"},
			{"addr", "add", h.Addr.String() + "/24", "dev", "eth0"},
			{"link", "set", "eth0", "up"},
		}
		for _, s := range inNS {
			if err := ip(ctx, h.NS, s...); err != nil {
				return fail(err)
			}
		}
	}
	return l, nil
}

// Hosts returns the hosts in the order New named them.
func (l *Lab) Hosts() []*Host { return l.hosts }

// Host returns the host of that name, or nil.
func (l *Lab) Host(name string) *Host {
	for _, h := range l.hosts {
		if h.Name == name {
			return h
		}
	}
	return nil
}

// Gateway is the address the test process (in the root namespace) has on
// the bridge; hosts reach the test through it.
func (l *Lab) Gateway() netip.Addr { return l.gw }

// Close removes the hosts and the bridge. Processes still running in a
// host keep their namespace until they exit; kill them first.
func (l *Lab) Close(ctx context.Context) error {
	var errs []error
	for _, h := range l.hosts {
		if err := ip(ctx, "", "netns", "del", h.NS); err != nil {
			errs = append(errs, err)
		}
	}
	if err := ip(ctx, "", "link", "del", l.bridge); err != nil && !strings.Contains(err.Error(), "Cannot find device") {
		errs = append(errs, err)
	}
	return errors.Join(errs...)
}

// Command returns a command that runs name with args inside the host's
// namespace. Processes it starts see only the host's network.
func (h *Host) Command(ctx context.Context, name string, args ...string) *exec.Cmd {
	return exec.CommandContext(ctx, "ip", append([]string{"netns", "exec", h.NS, name}, args...)...)
}

// HostPort is the host's address with a port, for flags such as --addr.
func (h *Host) HostPort(port int) string {
	return netip.AddrPortFrom(h.Addr, uint16(port)).String()
}

// Cut takes the host off the network: its link to the bridge goes down,
// so packets to and from it are lost (connections hang, as in a real
// partition, rather than being refused). Its processes keep running.
func (h *Host) Cut(ctx context.Context) error { return ip(ctx, "", "link", "set", h.veth, "down") }

// Heal puts a host that was cut back on the network.
func (h *Host) Heal(ctx context.Context) error { return ip(ctx, "", "link", "set", h.veth, "up") }

// ip runs `ip [-n ns] args...`.
func ip(ctx context.Context, ns string, args ...string) error {
	if ns != "" {
		args = append([]string{"-n", ns}, args...)
	}
	var out bytes.Buffer
	cmd := exec.CommandContext(ctx, "ip", args...)
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("ip %s: %w: %s", strings.Join(args, " "), err, strings.TrimSpace(out.String()))
	}
	return nil
}

// freeSubnet returns the first N whose 198.18.N.254 no interface holds.
func freeSubnet(ctx context.Context) (byte, error) {
	var out bytes.Buffer
	cmd := exec.CommandContext(ctx, "ip", "-o", "-4", "addr", "show")
	cmd.Stdout = &out
	if err := cmd.Run(); err != nil {
		return 0, fmt.Errorf("netlab: list addresses: %w", err)
	}
	for n := 1; n < 255; n++ {
		if !strings.Contains(out.String(), fmt.Sprintf(" 198.18.%d.254/", n)) {
			return byte(n), nil
		}
	}
	return 0, errors.New("netlab: every 198.18.N.0/24 is in use")
}

// sweep removes the namespaces and bridges of labs whose process is gone
// (a test binary killed before its cleanup ran) and returns the bridges
// that remain.
func sweep(ctx context.Context) map[string]bool {
	live := map[string]bool{}
	var out bytes.Buffer
	cmd := exec.CommandContext(ctx, "ip", "-o", "link", "show", "type", "bridge")
	cmd.Stdout = &out
	if cmd.Run() == nil {
		for _, line := range strings.Split(out.String(), "\n") {
			f := strings.Fields(line)
			if len(f) < 2 {
				continue
			}
			name := strings.TrimSuffix(f[1], ":")
			if stale(name) {
				_ = ip(ctx, "", "link", "del", name)
			} else {
				live[name] = true
			}
		}
	}
	out.Reset()
	cmd = exec.CommandContext(ctx, "ip", "netns", "list")
	cmd.Stdout = &out
	if cmd.Run() == nil {
		for _, line := range strings.Split(out.String(), "\n") {
			if f := strings.Fields(line); len(f) > 0 && stale(f[0]) {
				_ = ip(ctx, "", "netns", "del", f[0])
			}
		}
	}
	return live
}

// stale reports whether name belongs to a lab whose process has exited.
func stale(name string) bool {
	rest, ok := strings.CutPrefix(name, prefix)
	if !ok {
		return false
	}
	hexPid, _, ok := strings.Cut(rest, "-")
	if !ok {
		return false
	}
	pid, err := strconv.ParseInt(hexPid, 16, 32)
	if err != nil || int(pid) == os.Getpid() {
		return false
	}
	return syscall.Kill(int(pid), 0) == syscall.ESRCH
}
