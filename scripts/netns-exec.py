#!/usr/bin/env python3
"""Runs a command in a network namespace of its own, its loopback up.

Usage: unshare -n python3 scripts/netns-exec.py COMMAND [ARGS...]

`unshare -n` gives the command a loopback of its own, so two simulations
(each a devtools bus on the fixed ports 8081-8083) run side by side. A new
namespace's loopback is down: this brings it up with the SIOCSIFFLAGS ioctl
(no `ip`, which a fresh machine may lack), then execs the command.
"""
import fcntl
import os
import socket
import struct
import sys

SIOCGIFFLAGS = 0x8913
SIOCSIFFLAGS = 0x8914
IFF_UP = 0x1

if len(sys.argv) < 2:
    sys.exit("usage: unshare -n python3 netns-exec.py COMMAND [ARGS...]")
with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
    ifreq = struct.pack("16sH14x", b"lo", 0)
    flags = struct.unpack("16sH14x", fcntl.ioctl(s, SIOCGIFFLAGS, ifreq))[1]
    fcntl.ioctl(s, SIOCSIFFLAGS, struct.pack("16sH14x", b"lo", flags | IFF_UP))
os.execvp(sys.argv[1], sys.argv[1:])
