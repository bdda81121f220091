"""`make install` and `make deb` (docs/OPERATIONS.md, Install): the layout the
unit file expects under a temporary DESTDIR, the installed unit checked by
`systemd-analyze verify` against that tree, the package inspected with
`dpkg-deb --info/--contents` and lintian, and its maintainer scripts run by
dpkg into a scratch root (secrets.env created once, root-only, never
overwritten). Uses the binary under test (GW_BIN); make is told not to
rebuild it."""

import gzip
import os
import re
import shutil
import stat
import subprocess

import pytest

from gwtest import GW_BIN, ROOT

BIN = os.path.abspath(GW_BIN)
HOST_UNITS = "/usr/lib/systemd/system"


def make(*args, umask=None):
    """make in the repo with the tested binary marked up to date; the parent
    make's flags (when run by `make test`) and install variables are dropped."""
    assert os.path.basename(BIN) == "api-gateway", BIN
    env = {k: v for k, v in os.environ.items()
           if k not in ("MAKEFLAGS", "MFLAGS", "MAKELEVEL", "PREFIX", "DESTDIR", "BINDIR", "SYSCONFDIR")}
    cmd = ["make", "--no-print-directory", "-C", ROOT, "BIN=" + os.path.dirname(BIN), "-o", BIN] + list(args)
    pre = (lambda: os.umask(umask)) if umask is not None else None
    r = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=300, preexec_fn=pre)
    assert r.returncode == 0, "%s\n%s%s" % (" ".join(cmd), r.stdout, r.stderr)
    return r.stdout


def mode(path):
    return stat.S_IMODE(os.lstat(path).st_mode)


def read(path, binary=False):
    with open(path, "rb" if binary else "r") as f:
        return f.read()


def repo(*parts):
    return os.path.join(ROOT, *parts)


def exec_paths(unit_text):
    """The programs of every Exec*= line of a unit."""
    return [m.group(1) for m in re.finditer(r"^Exec\w+=[-@:+!]*(\S+)", unit_text, re.M)]


def systemd_verify(root, unit):
    """`systemd-analyze verify --root` on a unit inside an installed tree. The
    tree gets the host's units (sysinit.target and the rest a service pulls
    in); the unit's Exec paths are resolved inside the tree, so a path that the
    install did not create fails the check."""
    assert shutil.which("systemd-analyze"), "systemd-analyze missing (make deps-test installs systemd)"
    dst = os.path.join(root, HOST_UNITS.lstrip("/"))
    os.makedirs(dst, exist_ok=True)
    for name in os.listdir(HOST_UNITS):
        src = os.path.join(HOST_UNITS, name)
        if name.startswith("api-gateway") or os.path.lexists(os.path.join(dst, name)) or os.path.isdir(src):
            continue
        shutil.copy2(src, dst, follow_symlinks=False)
    return subprocess.run(["systemd-analyze", "verify", "--root=" + root, unit],
                          capture_output=True, text=True, timeout=60)


@pytest.mark.parametrize("prefix", ["/usr/local", "/usr"])
def test_install_layout_and_unit(tmp_path, prefix):
    dest = str(tmp_path / "root")
    # umask 0: every mode below is set by make install, not inherited.
    make("install", "DESTDIR=" + dest, "PREFIX=" + prefix, umask=0)
    d = lambda p: os.path.join(dest, p.lstrip("/"))  # noqa: E731

    binary = d(prefix + "/bin/api-gateway")
    assert mode(binary) == 0o755 and read(binary, True) == read(BIN, True)
    unit = d(prefix + "/lib/systemd/system/api-gateway.service")
    conf = d("/etc/api-gateway/api-gateway.conf")
    secrets = d("/etc/api-gateway/secrets.env")
    assert mode(unit) == 0o644
    assert mode(d("/etc/api-gateway")) == 0o755
    assert mode(conf) == 0o644 and read(conf) == read(repo("etc", "api-gateway.conf"))
    assert mode(secrets) == 0o600 and read(secrets) == read(repo("etc", "secrets.env.example"))
    for doc in ("README.md", "OPERATIONS.md", "TROUBLESHOOTING.md"):
        assert mode(d(prefix + "/share/doc/api-gateway/" + doc)) == 0o644
    assert mode(d(prefix + "/share/man/man8/api-gateway.8")) == 0o644

    # The unit runs the installed binary on the installed config; the repo's
    # unit (for /usr/local) is unchanged apart from that path.
    text = read(unit)
    assert [p for p in exec_paths(text) if "api-gateway" in p] == [prefix + "/bin/api-gateway"] * 3
    assert "EnvironmentFile=-/etc/api-gateway/secrets.env" in text
    assert text.count("-c /etc/api-gateway/api-gateway.conf") == 3
    want = read(repo("systemd", "api-gateway.service")).replace("/usr/local/bin/", prefix + "/bin/")
    assert text == want

    r = systemd_verify(dest, prefix + "/lib/systemd/system/api-gateway.service")
    assert r.returncode == 0 and r.stderr.strip() == "", r.stderr
    if prefix != "/usr/local":
        # The check is real: the repo's unit, whose binary is not in this tree, fails it.
        raw = d("/etc/systemd/system/api-gateway-raw.service")
        os.makedirs(os.path.dirname(raw))
        shutil.copy(repo("systemd", "api-gateway.service"), raw)
        r = systemd_verify(dest, "/etc/systemd/system/api-gateway-raw.service")
        assert r.returncode != 0 and "/usr/local/bin/api-gateway is not executable" in r.stderr, r.stderr

    # The installed binary accepts the installed config (JWT_SECRET as the
    # operator would put it in secrets.env).
    r = subprocess.run([binary, "-t", "-c", conf], env={"JWT_SECRET": "placeholder", "PATH": "/usr/bin:/bin"},
                       capture_output=True, text=True, timeout=30)
    assert r.returncode == 0, r.stdout + r.stderr

    # A second install keeps what the operator wrote.
    with open(secrets, "w") as f:
        f.write("JWT_SECRET=operator-secret\n")
    with open(conf, "a") as f:
        f.write("LOG_LEVEL=debug\n")
    out = make("install", "DESTDIR=" + dest, "PREFIX=" + prefix, umask=0)
    assert read(secrets) == "JWT_SECRET=operator-secret\n" and mode(secrets) == 0o600
    assert read(conf).endswith("LOG_LEVEL=debug\n")
    assert read(conf + ".new") == read(repo("etc", "api-gateway.conf"))
    assert "kept %s" % secrets in out and "kept %s" % conf in out
    assert "operator-secret" not in out


def build_deb(tmp_path):
    build = str(tmp_path / "build")
    make("deb", "BUILD=" + build)
    debs = [f for f in os.listdir(build) if f.endswith(".deb")]
    assert len(debs) == 1, debs
    return os.path.join(build, debs[0])


def dpkg_deb(*args):
    r = subprocess.run(["dpkg-deb"] + list(args), capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, r.stderr
    return r.stdout


def needed_packages(binary):
    """The Debian packages holding the libraries the binary's NEEDED entries name."""
    dyn = subprocess.run(["readelf", "-d", binary], capture_output=True, text=True, check=True).stdout
    sonames = re.findall(r"\(NEEDED\)\s+Shared library: \[([^\]]+)\]", dyn)
    assert "libc.so.6" in sonames
    cache = subprocess.run(["ldconfig", "-p"], capture_output=True, text=True, check=True).stdout
    pkgs = set()
    for so in sonames:
        paths = re.findall(r"^\s*%s \([^)]*x86-64[^)]*\) => (\S+)" % re.escape(so), cache, re.M) or \
            re.findall(r"^\s*%s \([^)]*\) => (\S+)" % re.escape(so), cache, re.M)
        assert paths, "no %s in the linker cache" % so
        # dpkg knows the path its package shipped (/lib or /usr/lib after usrmerge).
        real = os.path.realpath(paths[0])
        for cand in (paths[0], real, re.sub(r"^/usr/lib/", "/lib/", real)):
            r = subprocess.run(["dpkg", "-S", cand], capture_output=True, text=True)
            if r.returncode == 0:
                break
        assert r.returncode == 0, r.stderr
        pkgs.add(r.stdout.split(":")[0])
    return pkgs


def test_deb_contents_and_lintian(tmp_path):
    deb = build_deb(tmp_path)
    version = re.search(r'#define GW_VERSION "([^"]+)"', read(repo("master", "main.c"))).group(1)
    arch = subprocess.run(["dpkg", "--print-architecture"], capture_output=True, text=True).stdout.strip()
    assert os.path.basename(deb) == "api-gateway_%s-1_%s.deb" % (version, arch)

    info = dpkg_deb("--info", deb)
    field = lambda name: re.search(r"^ %s: (.*)$" % name, info, re.M).group(1)  # noqa: E731
    assert field("Package") == "api-gateway" and field("Version") == version + "-1"
    assert field("Architecture") == arch
    depends = {d.strip().split(" ")[0] for d in field("Depends").split(",")}
    assert depends == needed_packages(BIN), "Depends does not match readelf -d NEEDED"
    assert dpkg_deb("--field", deb, "Installed-Size").strip().isdigit()
    assert dpkg_deb("--info", deb, "conffiles").split() == ["/etc/api-gateway/api-gateway.conf"]
    for script in ("postinst", "prerm", "postrm"):
        assert dpkg_deb("--info", deb, script).startswith("#!/bin/sh")

    listing = {}
    for line in dpkg_deb("--contents", deb).splitlines():
        perms, owner, _size, _date, _time, path = line.split(None, 5)
        listing[path] = (perms, owner)
    assert all(owner == "root/root" for _, owner in listing.values())
    want = {
        "./usr/bin/api-gateway": "-rwxr-xr-x",
        "./lib/systemd/system/api-gateway.service": "-rw-r--r--",
        "./etc/api-gateway/api-gateway.conf": "-rw-r--r--",
        "./usr/share/api-gateway/secrets.env.example": "-rw-r--r--",
        "./usr/share/api-gateway/bundled.pb": "-rw-r--r--",
        "./usr/share/doc/api-gateway/copyright": "-rw-r--r--",
        "./usr/share/doc/api-gateway/changelog.Debian.gz": "-rw-r--r--",
        "./usr/share/doc/api-gateway/OPERATIONS.md.gz": "-rw-r--r--",
        "./usr/share/man/man8/api-gateway.8.gz": "-rw-r--r--",
    }
    for path, perms in want.items():
        assert listing.get(path, ("missing",))[0] == perms, path
    # secrets.env is made by postinst, never shipped (dpkg would replace it).
    assert not [p for p in listing if "secrets.env" in p and not p.endswith(".example")]
    assert not [p for p in listing if p.startswith("./usr/local")]

    tree = str(tmp_path / "tree")
    dpkg_deb("-x", deb, tree)
    unit = read(os.path.join(tree, "lib/systemd/system/api-gateway.service"))
    assert [p for p in exec_paths(unit) if "api-gateway" in p] == ["/usr/bin/api-gateway"] * 3
    r = systemd_verify(tree, "/lib/systemd/system/api-gateway.service")
    assert r.returncode == 0 and r.stderr.strip() == "", r.stderr
    with gzip.open(os.path.join(tree, "usr/share/doc/api-gateway/changelog.Debian.gz"), "rt") as f:
        assert f.readline().startswith("api-gateway (%s-1) " % version)
    # Stripped, and still a working gateway.
    shipped = os.path.join(tree, "usr/bin/api-gateway")
    sections = subprocess.run(["readelf", "-S", shipped], capture_output=True, text=True, check=True).stdout
    assert ".symtab" not in sections and ".debug_info" not in sections
    r = subprocess.run([shipped, "-v"], capture_output=True, text=True, timeout=30)
    assert r.returncode == 0 and r.stdout.startswith("api-gateway %s " % version), r.stdout + r.stderr
    # The shipped descriptor set serves the same table as the built-in one.
    env = dict(os.environ, JWT_SECRET="x" * 32)
    builtin = subprocess.run([shipped, "-t"], capture_output=True, text=True, timeout=30, env=env)
    env["PROTO_DESCRIPTOR_SET"] = os.path.join(tree, "usr/share/api-gateway/bundled.pb")
    listed = subprocess.run([shipped, "-t"], capture_output=True, text=True, timeout=30, env=env)
    assert listed.returncode == 0 and builtin.returncode == 0, listed.stderr + builtin.stderr
    routes = lambda out: [l for l in out.splitlines() if l.startswith("route ")]  # noqa: E731
    assert routes(listed.stdout) == routes(builtin.stdout) and len(routes(builtin.stdout)) == 28

    if shutil.which("lintian") is None:
        pytest.skip("lintian not installed (make deps-test installs it); the rest passed")
    r = subprocess.run(["lintian", "--info", "--pedantic", deb], capture_output=True, text=True, timeout=600)
    tags = [line for line in r.stdout.splitlines() if re.match(r"[EW]: ", line)]
    # Errors fail; warnings are reported (a newer lintian may add some).
    assert not [t for t in tags if t.startswith("E: ")], "\n".join(tags)
    if tags:
        print("lintian warnings:\n" + "\n".join(tags))


def test_deb_maintainer_scripts_keep_secrets(tmp_path):
    """dpkg installs the package into a scratch root (DPKG_ROOT, no chroot):
    postinst creates secrets.env 0600 once; an upgrade keeps the operator's
    secrets and edited config; remove keeps them; purge removes them."""
    if os.geteuid() != 0:
        pytest.skip("dpkg --root needs root")
    deb = build_deb(tmp_path)
    root = str(tmp_path / "dpkgroot")
    admin = os.path.join(root, "var/lib/dpkg")
    os.makedirs(os.path.join(admin, "info"))
    os.makedirs(os.path.join(admin, "updates"))
    for f in ("status", "available"):
        open(os.path.join(admin, f), "w").close()

    def dpkg(*args):
        # --force-depends: the scratch root has none of the libraries.
        cmd = ["dpkg", "--root=" + root, "--force-script-chrootless", "--force-depends",
               "--force-confold", "--log=/dev/null"] + list(args)
        r = subprocess.run(cmd, capture_output=True, text=True, timeout=120, stdin=subprocess.DEVNULL)
        assert r.returncode == 0, r.stdout + r.stderr
        return r.stdout + r.stderr

    etc = os.path.join(root, "etc/api-gateway")
    secrets, conf = os.path.join(etc, "secrets.env"), os.path.join(etc, "api-gateway.conf")
    dpkg("-i", deb)
    assert mode(secrets) == 0o600 and os.stat(secrets).st_uid == 0
    assert read(secrets) == read(repo("etc", "secrets.env.example"))
    assert read(conf) == read(repo("etc", "api-gateway.conf"))

    with open(secrets, "w") as f:
        f.write("JWT_SECRET=operator-secret\n")
    with open(conf, "a") as f:
        f.write("LOG_LEVEL=debug\n")
    out = dpkg("-i", deb)  # the upgrade path (configure with the old version)
    assert read(secrets) == "JWT_SECRET=operator-secret\n" and mode(secrets) == 0o600
    assert read(conf).endswith("LOG_LEVEL=debug\n")
    assert "operator-secret" not in out

    dpkg("-r", "api-gateway")
    assert not os.path.exists(os.path.join(root, "usr/bin/api-gateway"))
    assert read(secrets) == "JWT_SECRET=operator-secret\n"
    assert os.path.exists(conf)
    dpkg("-P", "api-gateway")
    assert not os.path.exists(secrets) and not os.path.exists(conf)
