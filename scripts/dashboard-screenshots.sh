#!/usr/bin/env bash
# Refreshes docs/images/dashboard-*.png (shown in README.md): runs the dashboard's screenshot test — a real
# 3-node cluster with some data and load (and one with auth on: sign-in, a read-only user, root's Maintenance
# page), Debian's headless chromium driven by Playwright — with
# RAFTKV_UPDATE_SCREENSHOTS=1, which also writes the captures into docs/images/.
set -euo pipefail
cd "$(dirname "$0")/.."
RAFTKV_UPDATE_SCREENSHOTS=1 dotnet test tests/RaftKv.Dashboard.Tests/RaftKv.Dashboard.Tests.csproj \
  --filter "FullyQualifiedName~ScreenshotTests" "$@"
ls -l docs/images/dashboard-*.png
