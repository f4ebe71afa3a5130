#!/usr/bin/env bash
# Renders the charted reports' workbooks to PNG, to look at the charts as a
# reader of the National Report sees them (LibreOffice draws the native
# Excel charts; nothing here draws them itself).
#
# Needs LibreOffice Calc and poppler; on Debian/Ubuntu:
#   apt-get install -y --no-install-recommends libreoffice-calc-nogui poppler-utils \
#       fonts-crosextra-carlito
# (Carlito has the metrics of Calibri, the workbooks' font: without it LibreOffice
# draws the columns, and the charts anchored to them, wider than Excel does.)
# This script installs nothing.
#
# Usage: benches/render_reports.sh [OUT_DIR]          (default: target/render)
#   SAPA=path/to/sapa  use that binary (default: build and use target/debug/sapa)
#   DPI=N              PNG resolution (default 60)
#
# It generates the tiny dataset (seed 7, 2023..2024, as the tests do), writes
# for its first region indicator_dynamics, indicator_blocks, rankings and
# period_comparison, and indicator_dynamics for every region (one sheet
# each), converts each workbook to PDF (`soffice --headless --convert-to
# pdf`) and each PDF page to a PNG (`pdftoppm`), plus NAME-charts.png: the
# charts of its last sheet. The README's pictures (docs/img/) are two of
# those.
set -euo pipefail

cd "$(dirname "$0")/.."
out=${1:-target/render}
dpi=${DPI:-60}

for tool in soffice pdftoppm; do
    if ! command -v "$tool" >/dev/null; then
        echo "render_reports: $tool is missing; install it with" >&2
        echo "  apt-get install -y --no-install-recommends libreoffice-calc-nogui poppler-utils" >&2
        exit 1
    fi
done

if [[ -z ${SAPA:-} ]]; then
    cargo build --quiet --bin sapa
    SAPA=${CARGO_TARGET_DIR:-target}/debug/sapa
fi

rm -rf "$out"
mkdir -p "$out"
data=$out/data
"$SAPA" generate --scale tiny --years 2023..2024 --seed 7 --format parquet --quiet --out "$data"
region=$("$SAPA" query --data "$data" --format csv "SELECT min(region_id) AS id FROM regions" | tail -n 1)

report() {
    local file=$1
    shift
    "$SAPA" report "$@" --data "$data" --format xlsx --out "$out/$file.xlsx"
}
report indicator_dynamics indicator_dynamics --unit "region:$region"
report indicator_blocks indicator_blocks --unit "region:$region"
report rankings rankings --unit "region:$region"
report period_comparison period_comparison --unit "region:$region"
report indicator_dynamics_every_region indicator_dynamics --unit 'region:*'

# A private LibreOffice profile: no first-start dialogs, no clash with a
# LibreOffice the user has open.
profile=$(mktemp -d)
trap 'rm -rf "$profile"' EXIT
for book in "$out"/*.xlsx; do
    soffice -env:UserInstallation="file://$profile" --headless \
        --convert-to pdf --outdir "$out" "$book" >/dev/null
    pdf=${book%.xlsx}.pdf
    pdftoppm -png -r "$dpi" "$pdf" "${pdf%.pdf}"
    # The charts start the last page (a page break before them): its upper
    # part at 90 dpi, the size of the README's pictures (docs/img/).
    pages=$(pdfinfo "$pdf" | awk '/^Pages:/ { print $2 }')
    pdftoppm -png -r 90 -f "$pages" -l "$pages" -x 25 -y 65 -W 910 -H 465 -singlefile \
        "$pdf" "${pdf%.pdf}-charts"
done
ls -1 "$out"/*.png
