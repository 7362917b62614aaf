#!/usr/bin/env bash
# 安装运行环境：系统字体与 LibreOffice（需 root），再建 .venv/ 并安装本项目。
# Usage: bash setup.sh        (idempotent; safe to run again)
set -euo pipefail
cd "$(dirname "$0")"

# Debian packages the project needs: CJK fonts (Noto; AR PL UKai for 楷体) for charts and PDF, Liberation Serif
# (Times New Roman's metrics) for the page numbers,
# Pango and HarfBuzz subsetting for WeasyPrint (fast PDF), LibreOffice (writer only) to read legacy .doc,
# libarchive (a 0.9 MB library, no program) for the rar and 7z archives units send; fontconfig (fc-cache) to
# register the 仿宋 font below. For the tests, which look at the outputs as they print: chromium (headless) reviews
# the notebooks in a browser, LibreOffice Calc prints the workbooks, poppler-utils (pdfinfo, pdftotext) reads PDFs.
APT_PACKAGES="chromium fontconfig fonts-noto-cjk fonts-arphic-ukai fonts-liberation2 libharfbuzz-subset0 libpango-1.0-0 libpangoft2-1.0-0 libreoffice-writer-nogui libreoffice-calc-nogui poppler-utils libarchive13"

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

# 仿宋 for the body text (GB/T 9704): Debian has no FangSong package, but FandolFang (GPL with font exception,
# full GB2312) ships inside texlive-lang-chinese. Only that one font is taken from the .deb (apt-get download +
# dpkg-deb, no TeX installed): a 49 MB download, 7 MB on disk. Root installs it for everyone, anyone else for
# themselves; without it the body falls back to Noto Serif CJK SC.
FANG=FandolFang-Regular.otf
if [ "$(id -u)" = "0" ]; then FONT_DIR=/usr/local/share/fonts/wennuan; else FONT_DIR="$HOME/.local/share/fonts/wennuan"; fi
if ! fc-list : file 2>/dev/null | grep -F "/$FANG" >/dev/null; then
  echo "【安装】仿宋字体 FandolFang（取自 texlive-lang-chinese，约 49 MB 下载）"
  tmp="$(mktemp -d)"
  chmod 755 "$tmp"
  if { apt-cache show texlive-lang-chinese >/dev/null 2>&1 || { [ "$(id -u)" = "0" ] && apt-get update -qq; }; } \
     && (cd "$tmp" && apt-get download -qq texlive-lang-chinese 2>/dev/null) \
     && dpkg-deb --fsys-tarfile "$tmp"/texlive-lang-chinese_*.deb | tar -x -C "$tmp" --wildcards "*/fandol/$FANG"; then
    mkdir -p "$FONT_DIR"
    install -m 644 "$(find "$tmp" -name "$FANG" | head -n 1)" "$FONT_DIR/$FANG"
    fc-cache -f "$FONT_DIR" >/dev/null
  else
    echo "【提示】未能取得仿宋字体 FandolFang，正文将用 Noto Serif CJK SC 代替（不影响运行）。" >&2
  fi
  rm -rf "$tmp"
fi
# The Word file names the official faces (仿宋_GB2312, 黑体, 楷体_GB2312, 方正小标宋简体), as Windows has them. Here
# they are aliased to the free stand-ins, so that LibreOffice (and any CSS naming them) sets them alike. A Western
# sign FandolFang lacks (†) comes from Liberation Serif, not from a whole CJK face (the PDF holds every face it
# embeds in memory while it is written: 52 MB for Noto Serif CJK SC).
if [ "$(id -u)" = "0" ]; then CONF_DIR=/etc/fonts/conf.d; else CONF_DIR="$HOME/.config/fontconfig/conf.d"; fi
CONF="$CONF_DIR/65-wennuan-official-faces.conf"
conf_text() {
  echo '<?xml version="1.0"?>'
  echo '<!DOCTYPE fontconfig SYSTEM "fonts.dtd">'
  echo '<!-- wennuan (setup.sh): the official faces of GB/T 9704 set in their free stand-ins -->'
  echo '<fontconfig>'
  for pair in "FandolFang,Liberation Serif,Noto Serif CJK SC:仿宋_GB2312 仿宋 FangSong STFangsong" \
              "Noto Sans CJK SC:黑体 SimHei" \
              "AR PL UKai CN:楷体_GB2312 楷体 KaiTi STKaiti" \
              "Noto Serif CJK SC:方正小标宋简体 小标宋 FZXiaoBiaoSong-B05S"; do
    faces="${pair%%:*}"
    for name in ${pair#*:}; do
      printf '  <alias binding="same"><family>%s</family><prefer>' "$name"
      IFS=, ; for f in $faces; do printf '<family>%s</family>' "$f"; done; unset IFS
      printf '</prefer></alias>\n'
    done
  done
  for name in 方正小标宋简体 小标宋 FZXiaoBiaoSong-B05S; do  # 小标宋 is a heavy face: its stand-in is bold
    printf '  <match target="pattern"><test name="family"><string>%s</string></test>' "$name"
    printf '<edit name="weight" mode="assign"><const>bold</const></edit></match>\n'
  done
  echo '</fontconfig>'
}
if [ "$(conf_text)" != "$(cat "$CONF" 2>/dev/null)" ]; then
  mkdir -p "$CONF_DIR"
  conf_text > "$CONF"
  fc-cache -f >/dev/null 2>&1 || true
fi

if [ ! -x .venv/bin/python ]; then
  echo "【安装】创建虚拟环境 .venv/"
  python3 -m venv .venv
fi
echo "【安装】安装 Python 依赖（首次约需数分钟）"
.venv/bin/python -m pip install -q --disable-pip-version-check -e '.[dev]'
# The package's compiled modules, once: where PYTHONDONTWRITEBYTECODE is set, every command and every kernel
# would otherwise compile it again (farm-bench, 7 pairs: importing the steps and views 1.21 → 1.11 s CPU).
.venv/bin/python -m compileall -q wennuan_lib >/dev/null
# The project's own Jupyter kernel, pinned to this venv's interpreter (ipykernel leaves an empty folder of its
# own in the temporary folder it is given: one of ours, removed).
tmp="$(mktemp -d)"
TMPDIR="$tmp" .venv/bin/python -m ipykernel install --sys-prefix --name wennuan --display-name "Python (wennuan)" >/dev/null
rm -rf "$tmp"
# JupyterLab's defaults for this venv (JupyterLab's documented overrides.json in its application directory): the
# interface in Chinese (the language pack is a dependency), and no prompt to fetch Jupyter news from the internet.
# A user's own choice in Lab's settings still wins.
mkdir -p .venv/share/jupyter/lab/settings
cat > .venv/share/jupyter/lab/settings/overrides.json <<'JSON'
{
  "@jupyterlab/translation-extension:plugin": {"locale": "zh_CN"},
  "@jupyterlab/apputils-extension:notification": {"fetchNews": "false"}
}
JSON
# JupyterLab's terminals (of a Lab started from this venv) open with the venv active, so that the commands the
# notebooks and the run print (python -m wennuan_lib …) run this project's Python, whatever the user's shell
# profile puts first on PATH: bash reads the user's ~/.bashrc, then the venv's activate script.
mkdir -p .venv/share/wennuan .venv/etc/jupyter
cat > .venv/share/wennuan/terminal.bashrc <<RC
# wennuan (setup.sh): a JupyterLab terminal, with this project's Python first on PATH
[ -f ~/.bashrc ] && . ~/.bashrc
. "$PWD/.venv/bin/activate"
RC
# Kernels start in a folder that runs never remove (wennuan_lib.run.lab.KernelManager): a notebook opened under
# outputs/<year>/notebooks/ (a shortcut into runs/<id>/) gets a kernel working in outputs/<year>/, which outlives
# the run folder that the next runs remove. Saving a notebook of notebooks/ in Lab writes it as committed (no
# outputs, no metadata Lab adds: wennuan_lib.run.lab.pre_save), and Lab's checkpoints are kept outside the project
# (wennuan_lib.run.lab.Checkpoints), so opening and saving notebooks in Lab leaves the checkout as it was.
cat > .venv/etc/jupyter/jupyter_server_config.json <<JSON
{"ServerApp": {"terminado_settings": {"shell_command": ["bash", "--init-file", "$PWD/.venv/share/wennuan/terminal.bashrc", "-i"]},
               "kernel_manager_class": "wennuan_lib.run.lab.KernelManager"},
 "FileContentsManager": {"pre_save_hook": "wennuan_lib.run.lab.pre_save", "checkpoints_class": "wennuan_lib.run.lab.Checkpoints"}}
JSON
echo "【完成】环境已就绪：.venv/"
