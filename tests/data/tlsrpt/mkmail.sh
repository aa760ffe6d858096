#!/bin/sh
# mkmail.sh [-j] REPORT.json [ID] - a TLS-RPT mail as RFC 8460 section 5.3
# shows it (multipart/report; report-type="tlsrpt", a text part, the
# report attached): gzip'd and base64-encoded as application/tlsrpt+gzip,
# or with -j as application/tlsrpt+json (base64). On standard output.
set -eu
type=gzip
if [ "${1:-}" = -j ]; then type=json; shift; fi
[ $# -ge 1 ] || { echo "usage: mkmail.sh [-j] REPORT.json [ID]" >&2; exit 2; }
json=$1
id=${2:-735ff.e317+bf22029@example.test}
b=----=_NextPart_000_024E_01CC9B0A.AFE54C00
cat <<HDR
Return-Path: <tlsrpt-noreply@mailprovider.example>
From: tlsrpt-noreply@mailprovider.example
Date: Fri, 04 Dec 2026 16:54:30 -0800
To: tlsrpt@example.test
Subject: Report Domain: example.test
     Submitter: mailprovider.example
     Report-ID: <$id>
Message-ID: <$id>
TLS-Report-Domain: example.test
TLS-Report-Submitter: mailprovider.example
MIME-Version: 1.0
Content-Type: multipart/report; report-type="tlsrpt";
    boundary="$b"
Content-Language: en-us

This is a multipart message in MIME format.

--$b
Content-Type: text/plain; charset="us-ascii"
Content-Transfer-Encoding: 7bit

This is an aggregate TLS report from mailprovider.example

--$b
HDR
if [ $type = gzip ]; then
	printf 'Content-Type: application/tlsrpt+gzip\n'
	printf 'Content-Transfer-Encoding: base64\n'
	printf 'Content-Disposition: attachment;\n'
	printf '    filename="mailprovider.example!example.test!1796342400!1796428799.json.gz"\n\n'
	gzip -9nc "$json" | base64
else
	printf 'Content-Type: application/tlsrpt+json\n'
	printf 'Content-Transfer-Encoding: base64\n'
	printf 'Content-Disposition: attachment;\n'
	printf '    filename="mailprovider.example!example.test!1796342400!1796428799.json"\n\n'
	base64 "$json"
fi
printf '\n--%s--\n' "$b"
