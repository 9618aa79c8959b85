# syntax=docker/dockerfile:1
# Multi-stage build of the raftkv server (and kvctl) on the .NET 10 images.
FROM mcr.microsoft.com/dotnet/sdk:10.0 AS build
WORKDIR /src
COPY global.json Directory.Build.props Directory.Packages.props .editorconfig RaftKv.sln ./
COPY proto/ proto/
COPY src/ src/
# ReadyToRun: the server's own and its packages' code precompiled for the target architecture (amd64 / arm64, as
# `docker build --platform` asks), so a (re)started node does not JIT its code while it serves: a JIT-only build
# compiled ~20,000 methods per node in its first minute under load, this one ~35 % fewer (BENCHMARKS.md, "Start-up JIT").
ARG TARGETARCH=amd64
RUN dotnet publish src/RaftKv.Server/RaftKv.Server.csproj -c Release -a "$TARGETARCH" --self-contained false -p:PublishReadyToRun=true -o /out/server \
 && dotnet publish src/RaftKv.Cli/RaftKv.Cli.csproj -c Release -o /out/kvctl

FROM mcr.microsoft.com/dotnet/aspnet:10.0 AS runtime
RUN apt-get update && apt-get install -y --no-install-recommends curl && rm -rf /var/lib/apt/lists/* \
 && useradd --system --uid 10001 --home /var/lib/raftkv raftkv \
 && mkdir -p /var/lib/raftkv && chown raftkv /var/lib/raftkv
COPY --from=build /out/server /app
COPY --chmod=755 scripts/k8s-start.sh /app/k8s-start.sh
COPY --from=build /out/kvctl /opt/kvctl
RUN ln -s /opt/kvctl/kvctl /usr/local/bin/kvctl
USER raftkv
WORKDIR /var/lib/raftkv
ENV DATA_DIR=/var/lib/raftkv HTTP_PORT=8080 GRPC_PORT=50051 RAFT_PORT=7000
EXPOSE 8080 50051 7000 2379
VOLUME ["/var/lib/raftkv"]
HEALTHCHECK --interval=10s --timeout=3s --start-period=20s --retries=3 CMD curl -fsS http://127.0.0.1:8080/health || exit 1
STOPSIGNAL SIGTERM
ENTRYPOINT ["dotnet", "/app/raftkv.dll"]
