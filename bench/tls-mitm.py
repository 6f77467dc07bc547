# SPDX-License-Identifier: MIT
# mitmdump addon for bench/tls: the same header replacement paddock does (placeholder ->
# real value in Authorization), so both proxies do the same work per request.
REAL = "sk-bench-real-value-0123456789abcdef"
PLACEHOLDER = "pdk_api_key_00000000000000000000000000000000"


def request(flow):
    value = flow.request.headers.get("authorization")
    if value and PLACEHOLDER in value:
        flow.request.headers["authorization"] = value.replace(PLACEHOLDER, REAL)
