# vat-sandbox: HMRC's VAT (MTD) API, offline, for test suites in any language.
#
#   docker build -t vat-sandbox .
#   docker run --rm -p 8080:8080 -e VAT_SANDBOX_CONTROL_TOKEN=secret vat-sandbox -seed 1
#
# The first line on stdout is JSON: url, clientId, clientSecret, redirectUri,
# vrn, userId, password, accessToken. From outside the container the control
# API (/_sandbox/) needs "Authorization: Bearer $VAT_SANDBOX_CONTROL_TOKEN";
# the VAT API and OAuth need nothing more. scripts/sandbox-smoke.sh builds the
# binary with the same command as the build stage below and drives it in CI.

FROM golang:1.26 AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
RUN CGO_ENABLED=0 go build -trimpath -ldflags="-s -w -buildid=" -o /out/vat-sandbox ./cmd/vat-sandbox

# distroless/static: no shell, no libc; the binary is static. nonroot is uid 65532.
FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=build /out/vat-sandbox /usr/local/bin/vat-sandbox
USER 65532:65532
ENV VAT_SANDBOX_ADDR=0.0.0.0:8080
EXPOSE 8080
# No curl in the image: the binary checks GET /_sandbox/health itself.
HEALTHCHECK --interval=10s --timeout=3s --start-period=2s --retries=3 CMD ["/usr/local/bin/vat-sandbox", "-healthcheck"]
ENTRYPOINT ["/usr/local/bin/vat-sandbox"]
CMD ["-json"]
