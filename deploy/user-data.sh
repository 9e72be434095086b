#!/bin/sh
# EC2 user data for the launch template of an Auto Scaling group of elb-proxy-echo backends:
# at first boot, fetch the executable for this CPU and install it as a systemd service with
# the group's options. Its output lands in /var/log/cloud-init-output.log; a failure exits
# non-zero, the instance never passes the load balancer's health check, and an Auto Scaling
# group with ELB health checks replaces it.
#
# Edit the three settings below (or set them in the environment to try the script by hand).
# {arch} in EXECUTABLE_URL becomes x64 or arm64, so one template serves both CPU kinds.
# The instance profile needs s3:GetObject on that object; the AWS CLI comes with Amazon Linux.
set -eu
set -f # options are split on spaces, never globbed

# s3://BUCKET/KEY, an https:// URL (a presigned one, say), or a path on the instance.
EXECUTABLE_URL=${EXECUTABLE_URL:-'s3://BUCKET/elb-proxy-echo/0.1.0/elb-proxy-echo-linux-{arch}'}
# The options `install` passes to the service (any option of serve).
INSTALL_OPTIONS=${INSTALL_OPTIONS:-'--port 5000 --trust 10.0.0.0/16'}
# sha256 of the executable for this CPU, x64 and arm64 as "x64=HASH arm64=HASH"; empty: not checked.
EXECUTABLE_SHA256=${EXECUTABLE_SHA256:-}

say() { echo "elb-proxy-echo user data: $*"; }

case $(uname -m) in
x86_64) arch=x64 ;;
aarch64) arch=arm64 ;;
*)
  say "no executable for CPU $(uname -m)"
  exit 1
  ;;
esac
url=$(printf '%s\n' "$EXECUTABLE_URL" | sed "s/{arch}/$arch/g")
file=$(mktemp /tmp/elb-proxy-echo.XXXXXX)
trap 'rm -f "$file"' EXIT

say "fetching $url"
case $url in
s3://*) aws s3 cp --only-show-errors "$url" "$file" ;;
https://*) curl -fsSL --retry 5 -o "$file" "$url" ;;
*) cp "$url" "$file" ;;
esac

if [ -n "$EXECUTABLE_SHA256" ]; then
  want=$(printf '%s\n' $EXECUTABLE_SHA256 | sed -n "s/^$arch=//p")
  got=$(sha256sum "$file" | cut -d ' ' -f 1)
  if [ "$got" != "$want" ]; then
    say "sha256 of $url is $got, expected ${want:-(none given for $arch)}: not installed"
    exit 1
  fi
fi

chmod 755 "$file"
say "$("$file" --version)"
# shellcheck disable=SC2086 # one word per option, on purpose
"$file" install $INSTALL_OPTIONS
say "installed; options in /etc/default/elb-proxy-echo"
