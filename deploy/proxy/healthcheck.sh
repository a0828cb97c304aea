#!/bin/bash
# The proxy answers on its port (no curl in the image: bash's /dev/tcp).
exec 3<>/dev/tcp/127.0.0.1/8080 || exit 1
printf 'GET /proxy-health HTTP/1.0\r\nHost: localhost\r\n\r\n' >&3
head -n 1 <&3 | grep -q ' 200 '
