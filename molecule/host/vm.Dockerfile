# Molecule "VM" (TEST-ONLY): a fresh Debian 12 host as an operator gets it from a cloud
# provider: systemd as PID 1, sshd, sudo, a first login user `debian` with uid 1000 (as on
# Debian/Ubuntu cloud images), and a `deploy` user (uid 1001) whose sudo asks for a password.
# No Docker, no python3-apt, no python3-requests: the role installs what it needs.
ARG BASE_IMAGE=regression-analyzer/python-base:3.11
FROM ${BASE_IMAGE}
ENV DEBIAN_FRONTEND=noninteractive container=docker
# hadolint ignore=DL3008
RUN apt-get update \
 && apt-get install -y --no-install-recommends systemd systemd-sysv dbus openssh-server sudo \
        iproute2 iptables procps curl kmod \
 && apt-get purge -y python3-apt python3-requests 2>/dev/null || true \
 && rm -rf /var/lib/apt/lists/*
# Units that make no sense in a container would only slow the boot or fail.
RUN systemctl mask systemd-udevd.service systemd-udevd-kernel.socket systemd-udevd-control.socket \
        getty.target console-getty.service systemd-logind.service systemd-resolved.service 2>/dev/null; \
    systemctl enable ssh.service
# TEST-ONLY password for deploy's sudo (the operator scenario passes it with --become-password-file).
RUN useradd --uid 1000 --create-home --shell /bin/bash debian \
 && useradd --uid 1001 --create-home --shell /bin/bash --groups sudo deploy \
 && echo 'deploy:test-only-sudo-password' | chpasswd \
 && install -d -m 0700 -o deploy -g deploy /home/deploy/.ssh
STOPSIGNAL SIGRTMIN+3
CMD ["/lib/systemd/systemd"]
