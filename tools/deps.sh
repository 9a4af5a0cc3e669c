#!/bin/sh
# Install every Debian package that corral's build, tests, demo and
# benchmarks need. Idempotent; needs root.
set -eu
PKGS="clang llvm libbpf-dev bpftool libelf-dev zlib1g-dev pkg-config make gcc
 libcmocka-dev libjson-c-dev libmicrohttpd-dev libncurses-dev
 iproute2 ethtool netsniff-ng hping3 nftables iptables jq bats scdoc
 gnuplot-nox prometheus systemd procps psmisc util-linux ncat
 valgrind libclang-rt-dev fail2ban
 nginx-light apache2-utils curl"
missing=""
for p in $PKGS; do
	dpkg-query -W -f='${Status}\n' "$p" 2>/dev/null | grep -q '^install ok installed$' || missing="$missing $p"
done
if [ -z "$missing" ]; then
	echo "deps: all packages present"
	exit 0
fi
if [ "$(id -u)" -ne 0 ]; then
	echo "deps: missing packages:$missing (run as root to install)" >&2
	exit 1
fi
echo "deps: installing$missing"
export DEBIAN_FRONTEND=noninteractive
# install daemons (fail2ban, nginx, ...) without starting them: tests run
# their own instances
if [ ! -e /usr/sbin/policy-rc.d ]; then
	printf '#!/bin/sh\nexit 101\n' >/usr/sbin/policy-rc.d
	chmod 755 /usr/sbin/policy-rc.d
	trap 'rm -f /usr/sbin/policy-rc.d' EXIT
fi
apt-get update -qq
# shellcheck disable=SC2086
apt-get install -y -qq --no-install-recommends $missing
