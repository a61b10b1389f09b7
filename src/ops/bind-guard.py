"""The bind half of hubapps' port guard (docs/security.md, "Local users").

The nftables half decides who may connect to an app's {port}; this half decides who may
bind one. It loads a small BPF program on the cgroup v2 root, for IPv4 and IPv6 binds,
that refuses (EPERM) a bind to a port of port_range unless the caller is root or the uid
the service registered for that port. Other local accounts then cannot hold the range's
ports, so they cannot make starts fail with no_free_port, nor take an app's port in the
moment between its server's end and its next start.

Run as root by `hubapps port-guard` (src/ops/port-guard.ts), never by hand: Node has no
bpf(2), and Python's ctypes, in every Debian and Ubuntu python3, reaches it without a
compiler or libbpf. The program is a few instructions written out below, so nothing is
compiled at install time.

    bind-guard.py NAME MIN MAX sync [PORT:UID ...]   exactly these pairs, programs reloaded
    bind-guard.py NAME MIN MAX allow PORT UID
    bind-guard.py NAME MIN MAX revoke PORT UID
    bind-guard.py NAME MIN MAX show                  "PORT UID" lines
    bind-guard.py NAME MIN MAX remove                programs detached, pins removed

The map and both programs are pinned in /sys/fs/bpf/NAME (bpffs, mounted if it is not),
so later calls find them and a restart of the service changes nothing.
"""

import ctypes
import os
import platform
import struct
import sys

BPF_FS = "/sys/fs/bpf"
SYSCALL_BPF = {"x86_64": 321, "aarch64": 280, "ppc64le": 361, "s390x": 351, "riscv64": 280}

MAP_CREATE, MAP_LOOKUP, MAP_UPDATE, MAP_DELETE, MAP_NEXT_KEY = 0, 1, 2, 3, 4
PROG_LOAD, OBJ_PIN, OBJ_GET, PROG_ATTACH, PROG_DETACH = 5, 6, 7, 8, 9
MAP_TYPE_HASH = 1
PROG_TYPE_CGROUP_SOCK_ADDR = 18
ATTACH = {"bind4": 8, "bind6": 9}  # BPF_CGROUP_INET4_BIND, BPF_CGROUP_INET6_BIND
F_ALLOW_MULTI = 2  # beside the programs systemd and others attach, never instead of them
HELPER_MAP_LOOKUP, HELPER_UID_GID = 1, 15
# Key 0 of the map is no port: it records the range the programs were loaded with.
META_KEY = 0
# struct bpf_sock_addr: user_port, in network byte order, at this offset.
USER_PORT = 24

libc = ctypes.CDLL(None, use_errno=True)
libc.syscall.restype = ctypes.c_long


class GuardError(Exception):
    pass


def bpf(cmd, attr):
    nr = SYSCALL_BPF.get(platform.machine())
    if nr is None:
        raise GuardError(f"no bpf(2) number known for {platform.machine()}")
    buf = ctypes.create_string_buffer(attr, 128)
    r = libc.syscall(ctypes.c_long(nr), ctypes.c_int(cmd), buf, ctypes.c_uint(128))
    if r < 0:
        err = ctypes.get_errno()
        raise OSError(err, os.strerror(err))
    return r


def u32(value):
    return ctypes.create_string_buffer(struct.pack("=I", value), 4)


def insn(code, dst=0, src=0, off=0, imm=0):
    return struct.pack("=BBhi", code, (src << 4) | dst, off, imm)


def assemble(items):
    """Instructions as (code, dst, src, off, imm) tuples; a string is a label, and a jump's off may name one."""
    slots, labels, n = [], {}, 0
    for item in items:
        if isinstance(item, str):
            labels[item] = n
            continue
        slots.append(n)
        n += 2 if item[0] == 0x18 else 1
    out = []
    for k, item in enumerate(i for i in items if not isinstance(i, str)):
        code, dst, src, off, imm = (list(item) + [0, 0, 0, 0])[:5]
        if isinstance(off, str):
            off = labels[off] - slots[k] - 1
        out.append(insn(code, dst, src, off, imm))
        if code == 0x18:
            out.append(insn(0))
    return b"".join(out)


def program(map_fd, low, high):
    """Return 1 (allow) or 0 (EPERM) for a bind: the port, the caller's uid, the map."""
    return assemble([
        (0xBF, 6, 1),                            # r6 = ctx
        (0x61, 8, 6, USER_PORT),                 # r8 = ctx->user_port
        (0xDC, 8, 0, 0, 16),                     # r8 = be16(r8): host order
        (0xA5, 8, 0, "allow", low),              # port < low: not ours
        (0x25, 8, 0, "allow", high),             # port > high: not ours
        (0x85, 0, 0, 0, HELPER_UID_GID),         # r0 = gid << 32 | uid
        (0xBC, 7, 0),                            # w7 = uid
        (0x15, 7, 0, "allow", 0),                # root
        (0x63, 10, 8, -4),                       # key = port, on the stack
        (0x18, 1, 1, 0, map_fd),                 # r1 = the map
        (0xBF, 2, 10), (0x07, 2, 0, 0, -4),      # r2 = &key
        (0x85, 0, 0, 0, HELPER_MAP_LOOKUP),
        (0x15, 0, 0, "deny", 0),                 # no owner registered
        (0x61, 1, 0, 0),                         # r1 = owner
        (0x5D, 1, 7, "deny"),                    # someone else's port
        "allow", (0xB7, 0, 0, 0, 1), (0x95,),
        "deny", (0xB7, 0, 0, 0, 0), (0x95,),
    ])


def pin_dir(name):
    return os.path.join(BPF_FS, name)


def mount_bpffs():
    with open("/proc/self/mounts") as f:
        if any(line.split()[1:3] == [BPF_FS, "bpf"] for line in f):
            return
    if libc.mount(b"bpf", BPF_FS.encode(), b"bpf", 0, b"mode=0700") != 0:
        err = ctypes.get_errno()
        raise GuardError(f"cannot mount bpffs on {BPF_FS}: {os.strerror(err)}")


def cgroup2_root():
    with open("/proc/self/mounts") as f:
        for line in f:
            fields = line.split()
            if fields[2] == "cgroup2":
                return fields[1]
    raise GuardError("no cgroup2 hierarchy is mounted (systemd mounts one on every current distribution)")


def obj_get(path):
    p = ctypes.create_string_buffer(path.encode())
    try:
        return bpf(OBJ_GET, struct.pack("=QII", ctypes.addressof(p), 0, 0))
    except FileNotFoundError:
        return None


def obj_pin(fd, path):
    p = ctypes.create_string_buffer(path.encode())
    bpf(OBJ_PIN, struct.pack("=QII", ctypes.addressof(p), fd, 0))


def map_create(entries):
    name = b"hubapps_ports".ljust(16, b"\0")
    return bpf(MAP_CREATE, struct.pack("=IIIIIII16s", MAP_TYPE_HASH, 4, 4, entries, 0, 0, 0, name))


def map_put(fd, key, value):
    k, v = u32(key), u32(value)
    bpf(MAP_UPDATE, struct.pack("=IIQQQ", fd, 0, ctypes.addressof(k), ctypes.addressof(v), 0))


def map_get(fd, key):
    k, v = u32(key), u32(0)
    try:
        bpf(MAP_LOOKUP, struct.pack("=IIQQQ", fd, 0, ctypes.addressof(k), ctypes.addressof(v), 0))
    except FileNotFoundError:
        return None
    return struct.unpack("=I", v.raw)[0]


def map_delete(fd, key):
    k = u32(key)
    try:
        bpf(MAP_DELETE, struct.pack("=IIQ", fd, 0, ctypes.addressof(k)))
    except FileNotFoundError:
        pass


def map_items(fd):
    items, key, nxt = {}, None, u32(0)
    while True:
        k = u32(key) if key is not None else None
        try:
            bpf(MAP_NEXT_KEY, struct.pack("=IIQQ", fd, 0, ctypes.addressof(k) if k is not None else 0, ctypes.addressof(nxt)))
        except FileNotFoundError:
            return items
        key = struct.unpack("=I", nxt.raw)[0]
        items[key] = map_get(fd, key)


def prog_load(map_fd, low, high, attach_type):
    insns = program(map_fd, low, high)
    code = ctypes.create_string_buffer(insns, len(insns))
    license_ = ctypes.create_string_buffer(b"GPL")
    log = ctypes.create_string_buffer(1 << 16)
    name = b"hubapps_bind".ljust(16, b"\0")
    attr = struct.pack(
        "=IIQQIIQII16sII", PROG_TYPE_CGROUP_SOCK_ADDR, len(insns) // 8,
        ctypes.addressof(code), ctypes.addressof(license_), 1, len(log), ctypes.addressof(log),
        0, 0, name, 0, attach_type)
    try:
        return bpf(PROG_LOAD, attr)
    except OSError as e:
        raise GuardError(f"the kernel refused the bind program ({e.strerror}): {log.value.decode()[-400:]}") from e


def attach(cgroup_fd, prog_fd, attach_type, detach=False):
    if detach:
        bpf(PROG_DETACH, struct.pack("=III", cgroup_fd, prog_fd, attach_type))
    else:
        bpf(PROG_ATTACH, struct.pack("=IIIII", cgroup_fd, prog_fd, attach_type, F_ALLOW_MULTI, 0))


def sync(name, low, high, pairs):
    """New map and programs, attached before the old ones go, so no moment is unguarded."""
    mount_bpffs()
    os.makedirs(pin_dir(name), mode=0o700, exist_ok=True)
    cgroup = os.open(cgroup2_root(), os.O_RDONLY | os.O_DIRECTORY)
    map_fd = map_create(high - low + 2)
    map_put(map_fd, META_KEY, low << 16 | high)
    for port, uid in pairs.items():
        map_put(map_fd, port, uid)
    fresh = {kind: prog_load(map_fd, low, high, t) for kind, t in ATTACH.items()}
    for kind, fd in fresh.items():
        attach(cgroup, fd, ATTACH[kind])
    detach_pinned(name, cgroup)
    for kind, fd in fresh.items():
        obj_pin(fd, os.path.join(pin_dir(name), kind))
    obj_pin(map_fd, os.path.join(pin_dir(name), "ports"))


def detach_pinned(name, cgroup):
    for kind, t in ATTACH.items():
        path = os.path.join(pin_dir(name), kind)
        fd = obj_get(path)
        if fd is None:
            continue
        try:
            attach(cgroup, fd, t, detach=True)
        except FileNotFoundError:
            pass  # detached already (someone ran bpftool)
        os.unlink(path)
    ports = os.path.join(pin_dir(name), "ports")
    if os.path.exists(ports):
        os.unlink(ports)


def loaded(name):
    """The pinned map when both programs are pinned beside it, else None."""
    if not all(os.path.exists(os.path.join(pin_dir(name), p)) for p in ("ports", *ATTACH)):
        return None
    return obj_get(os.path.join(pin_dir(name), "ports"))


def pairs_of(map_fd):
    return {k: v for k, v in map_items(map_fd).items() if k != META_KEY}


def run(argv):
    if len(argv) < 4:
        raise GuardError("usage: bind-guard.py NAME MIN MAX sync|allow|revoke|show|remove [ARGS]")
    name, low, high, op, args = argv[0], int(argv[1]), int(argv[2]), argv[3], argv[4:]
    map_fd = loaded(name) if os.path.isdir(pin_dir(name)) else None
    if op == "sync":
        sync(name, low, high, dict(tuple(map(int, a.split(":"))) for a in args))
    elif op == "allow":
        port, uid = map(int, args)
        if map_fd is None or map_get(map_fd, META_KEY) != (low << 16 | high):
            current = pairs_of(map_fd) if map_fd is not None else {}
            sync(name, low, high, {**current, port: uid})
        else:
            map_put(map_fd, port, uid)
    elif op == "revoke":
        port, uid = map(int, args)
        if map_fd is not None and map_get(map_fd, port) == uid:
            map_delete(map_fd, port)
    elif op == "show":
        if map_fd is None:
            raise GuardError(f"no bind guard is loaded ({pin_dir(name)})")
        for port, uid in sorted(pairs_of(map_fd).items()):
            print(port, uid)
    elif op == "remove":
        if os.path.isdir(pin_dir(name)):
            detach_pinned(name, os.open(cgroup2_root(), os.O_RDONLY | os.O_DIRECTORY))
            os.rmdir(pin_dir(name))
    else:
        raise GuardError(f"unknown operation '{op}'")


if __name__ == "__main__":
    try:
        run(sys.argv[1:])
    except (GuardError, OSError, ValueError) as e:
        print(f"bind guard: {e}", file=sys.stderr)
        sys.exit(1)
