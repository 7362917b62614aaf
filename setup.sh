#!/usr/bin/env bash
# 安装运行环境：系统字体与 LibreOffice（需 root），再建 .venv/ 并安装本项目。
# Usage: bash setup.sh        (idempotent; safe to run again)
set -euo pipefail
cd "$(dirname "$0")"

# Debian packages the project needs: CJK fonts (Noto; AR PL UKai for 楷体) for charts and PDF,
# Pango and HarfBuzz subsetting for WeasyPrint (fast PDF), LibreOffice (writer only) to read legacy .doc,
# libarchive (a 0.9 MB library, no program) for the rar and 7z archives units send.
APT_PACKAGES="fonts-noto-cjk fonts-arphic-ukai libharfbuzz-subset0 libpango-1.0-0 libpangoft2-1.0-0 libreoffice-writer-nogui libarchive13"

missing=""
for p in $APT_PACKAGES; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing="$missing $p"
done
if [ -n "$missing" ]; then
  if [ "$(id -u)" = "0" ]; then
    echo "【安装】系统软件包:$missing"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq --no-install-recommends $missing >/dev/null
  else
    echo "【缺少系统软件包】$missing" >&2
    echo "请让管理员执行：sudo apt-get install -y --no-install-recommends$missing" >&2
    echo "然后再次运行 bash setup.sh。" >&2
    exit 1
  fi
fi

if [ ! -x .venv/bin/python ]; then
  echo "【安装】创建虚拟环境 .venv/"
  python3 -m venv .venv
fi
echo "【安装】安装 Python 依赖（首次约需数分钟）"
.venv/bin/python -m pip install -q --disable-pip-version-check -e '.[dev]'
# The project's own Jupyter kernel, pinned to this venv's interpreter.
.venv/bin/python -m ipykernel install --sys-prefix --name wennuan --display-name "Python (wennuan)" >/dev/null
echo "【完成】环境已就绪：.venv/"
