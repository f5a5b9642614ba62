"""One offline docs site: dbt's docs, every report, the reconciliations' Data Docs and the run history.

    ecomdwh docs [--out DIR]        # default <reports dir>/site/; open DIR/index.html (file://, no network)

    site/index.html                          links to everything below (a local template and stylesheet)
    site/dbt/index.html                      dbt docs, static: manifest and catalog inside, lineage graph included
    site/reports/<kind>/<date>/<run id>/     each report's HTML; a reconciliation's Data Docs in data_docs/
    site/static/                             site.css, and what the Data Docs pages loaded from CDNs:
                                             Bootstrap, jQuery, Font Awesome, bootstrap-datepicker (XStatic
                                             packages), bootstrap-table (vendored)

Great Expectations' Data Docs pages link Bootstrap, jQuery, bootstrap-table, Font Awesome, Vega and a logo
from CDNs. Offline their validation tables stay empty (bootstrap-table renders them) and nothing is styled,
so every copied page has those links rewritten to relative paths of the files in static/ (tags for what the
pages do not use, such as Vega and a dark theme, are dropped). `remote_references` lists any page or
stylesheet in a folder that still loads something from the network; the build fails on one.

The run history comes from the warehouse's `ops` schema when it has one (`run_history`).
"""

from __future__ import annotations

import html
import json
import os
import re
import shutil
from dataclasses import dataclass, field
from datetime import UTC, datetime
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import unquote, urlsplit

from ecomdwh.errors import UserError
from ecomdwh.settings import Settings

HERE = Path(__file__).resolve().parent
MARKER = ".ecomdwh-docs-site"  # in every built site: a folder without it is never replaced
STATIC = "static"
DBT_DOCS = "dbt/index.html"
DATA_DOCS = "data_docs"
# Where a reconciliation's GX project keeps its Data Docs, inside the report's folder.
DATA_DOCS_IN_REPORT = Path("gx") / "uncommitted" / "data_docs" / "local_site"
_DAY = re.compile(r"^\d{4}-\d{2}-\d{2}$")


# --- the files the Data Docs pages load from CDNs, served locally ----------------------------------------------


def static_files() -> list[tuple[Path, str]]:
    """(source file, path under static/) of everything the site serves: XStatic packages, vendored files, site.css."""
    import xstatic.pkg.bootstrap
    import xstatic.pkg.bootstrap_datepicker
    import xstatic.pkg.font_awesome
    import xstatic.pkg.jquery

    bootstrap = Path(xstatic.pkg.bootstrap.BASE_DIR)
    datepicker = Path(xstatic.pkg.bootstrap_datepicker.BASE_DIR)
    awesome = Path(xstatic.pkg.font_awesome.BASE_DIR)
    vendor = HERE / "vendor"
    files = [
        (bootstrap / "css" / "bootstrap.min.css", "bootstrap/css/bootstrap.min.css"),
        (bootstrap / "js" / "bootstrap.bundle.min.js", "bootstrap/js/bootstrap.bundle.min.js"),  # Popper inside
        (Path(xstatic.pkg.jquery.BASE_DIR) / "jquery.min.js", "jquery/jquery.min.js"),
        (datepicker / "bootstrap-datepicker.js", "bootstrap-datepicker/bootstrap-datepicker.js"),
        (datepicker / "bootstrap-datepicker3.standalone.css", "bootstrap-datepicker/bootstrap-datepicker.css"),
        (awesome / "css" / "all.min.css", "font-awesome/css/all.min.css"),
        (awesome / "LICENSE.txt", "font-awesome/LICENSE.txt"),
        (HERE / "site.css", "site.css"),
    ]
    # Browsers take the woff2 of each face; the ttf fallbacks stay out.
    files += [(font, f"font-awesome/webfonts/{font.name}") for font in sorted((awesome / "webfonts").glob("*.woff2"))]
    files += [(f, f"bootstrap-table/{f.relative_to(vendor / 'bootstrap-table')}") for f in _files(vendor)]
    return files


def _files(folder: Path) -> list[Path]:
    return sorted(p for p in folder.rglob("*") if p.is_file() and p.name != "README.md")


def copy_static(static: Path) -> Path:
    for source, name in static_files():
        target = static / name
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(source, target)
    return static


# A remote URL a page loads -> the file under static/ that replaces it (None: the tag goes, nothing uses it).
# The patterns match the URL's path, so another CDN or a patch version of the same file still matches.
_LOCAL_ASSETS: tuple[tuple[re.Pattern[str], str | None], ...] = tuple(
    (re.compile(pattern), name)
    for pattern, name in (
        (r"/bootstrap/4\.[\d.]+/css/bootstrap(\.min)?\.css$", "bootstrap/css/bootstrap.min.css"),
        (r"/bootstrap/4\.[\d.]+/js/bootstrap(\.bundle)?(\.min)?\.js$", "bootstrap/js/bootstrap.bundle.min.js"),
        (r"/popper(\.js)?[@/].*popper(\.min)?\.js$", None),  # inside Bootstrap's bundle
        (r"/jquery-3\.[\d.]+(\.min)?\.js$", "jquery/jquery.min.js"),
        (r"bootstrap-table@[\d.]+/dist/bootstrap-table(\.min)?\.css$", "bootstrap-table/bootstrap-table.min.css"),
        (r"bootstrap-table@[\d.]+/dist/bootstrap-table(\.min)?\.js$", "bootstrap-table/bootstrap-table.min.js"),
        (
            r"/filter-control/bootstrap-table-filter-control(\.min)?\.css$",
            "bootstrap-table/extensions/filter-control/bootstrap-table-filter-control.min.css",
        ),
        (
            r"/filter-control/bootstrap-table-filter-control(\.min)?\.js$",
            "bootstrap-table/extensions/filter-control/bootstrap-table-filter-control.min.js",
        ),
        (r"/bootstrap-datepicker(\.min)?\.css$", "bootstrap-datepicker/bootstrap-datepicker.css"),
        (r"/bootstrap-datepicker(\.min)?\.js$", "bootstrap-datepicker/bootstrap-datepicker.js"),
        (r"/font-awesome/[\d.]+/css/all(\.min)?\.css$", "font-awesome/css/all.min.css"),
        (r"bootstrap-prefers-dark\.css$", None),  # a dark theme the pages work without
        (r"/npm/vega(-lite|-embed)?@", None),  # charts of profiling suites; the reconciliation has none
    )
)
_GX_LOGO = re.compile(r"great-expectations-web-assets.*/logo-long\.png")

_TAG = re.compile(r"<(script|link|img)\b[^>]*>(\s*</script>)?", re.IGNORECASE)
_ATTR = re.compile(r"""\b(src|href)\s*=\s*(["'])(.*?)\2""", re.IGNORECASE | re.DOTALL)
_CSS_REMOTE_URL = re.compile(r"""url\(\s*(["']?)(?:https?:)?//[^)]*?\1\s*\)""", re.IGNORECASE)
_CSS_REMOTE_IMPORT = re.compile(r"""@import\s+(?:url\()?\s*["']?(?:https?:)?//[^;]*;""", re.IGNORECASE)


def is_remote(url: str) -> bool:
    """A URL that leaves the machine: http(s) or protocol-relative (//host/...)."""
    url = url.strip().lower()
    return url.startswith(("http://", "https://", "//"))


def _relative(target: Path, page: Path) -> str:
    return Path(os.path.relpath(target, page.parent)).as_posix()


def offline_page(text: str, page: Path, static: Path, logo: Path | None = None) -> tuple[str, list[str]]:
    """A page's HTML with every remote script, stylesheet and image replaced by its local copy under `static`
    (a relative path from `page`) or removed; and the remote URLs it removed without a replacement."""
    dropped: list[str] = []

    def tag(match: re.Match[str]) -> str:
        whole, name = match.group(0), match.group(1).lower()
        attr = _ATTR.search(whole)
        url = html.unescape(attr.group(3)) if attr else ""
        if not is_remote(url):
            return whole
        if name == "img":
            if logo is not None and _GX_LOGO.search(url):
                return whole.replace(attr.group(0), f'src="{_relative(logo, page)}"')
            dropped.append(url)
            return ""
        path = urlsplit(url if not url.startswith("//") else f"https:{url}").path
        local = next((local for pattern, local in _LOCAL_ASSETS if pattern.search(path)), "")
        if not local:
            if local == "":
                dropped.append(url)
            return ""
        href = _relative(static / local, page)
        if name == "script":
            return f'<script src="{href}"></script>'
        return f'<link rel="stylesheet" href="{href}">'

    text = _TAG.sub(tag, text)
    return offline_css(text), dropped


def offline_css(text: str) -> str:
    """Stylesheet text (or a page's inline styles) without remote url() images and @imports."""
    return _CSS_REMOTE_URL.sub("none", _CSS_REMOTE_IMPORT.sub("", text))


def offline_data_docs(site: Path, static: Path) -> list[str]:
    """Rewrite a GX Data Docs site (its index.html's folder) in place to load nothing remote; the remote URLs
    dropped without a local replacement."""
    logo = site / "static" / "images" / "logo-long.png"
    dropped: list[str] = []
    for page in sorted(site.rglob("*.html")):
        text, gone = offline_page(page.read_text(encoding="utf-8"), page, static, logo if logo.exists() else None)
        page.write_text(text, encoding="utf-8")
        dropped += gone
    for sheet in sorted(site.rglob("*.css")):
        sheet.write_text(offline_css(sheet.read_text(encoding="utf-8")), encoding="utf-8")
    return dropped


# --- the check: nothing in a folder loads from the network -----------------------------------------------------

# Attributes that make a browser fetch, per tag (a plain <a href> is a link the reader may follow, not a load).
_LOADING_ATTRS = {
    "script": ("src",),
    "img": ("src", "srcset"),
    "iframe": ("src",),
    "frame": ("src",),
    "embed": ("src",),
    "object": ("data",),
    "source": ("src", "srcset"),
    "video": ("src", "poster"),
    "audio": ("src",),
    "track": ("src",),
    "input": ("src",),
    "image": ("href", "xlink:href"),
    "use": ("href", "xlink:href"),
}
_CSS_URLS = re.compile(r"""(?:url\(\s*["']?|@import\s+["'])([^"')\s]+)""", re.IGNORECASE)


class _References(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.assets: list[tuple[str, str]] = []  # (what, url)
        self.links: list[str] = []
        self._in_style = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = {k.lower(): v or "" for k, v in attrs}
        if tag == "link" and values.get("href"):
            self.assets.append((f"<link rel={values.get('rel', '')}>", values["href"]))
        for name in _LOADING_ATTRS.get(tag, ()):
            value = values.get(name, "").strip()
            # A srcset lists "url width" candidates by commas; any other value is one URL (a data: URL has commas).
            urls = [c.split()[0] for c in value.split(",") if c.strip()] if name == "srcset" else [value]
            self.assets += [(f"<{tag} {name}>", url) for url in urls if url]
        if values.get("style"):
            self.assets += [("style attribute", u) for u in _CSS_URLS.findall(values["style"])]
        if tag == "a" and values.get("href"):
            self.links.append(values["href"])
        self._in_style = tag == "style"

    def handle_endtag(self, tag: str) -> None:
        self._in_style = False

    def handle_data(self, data: str) -> None:
        if self._in_style:
            self.assets += [("<style>", u) for u in _CSS_URLS.findall(data)]


def page_references(page: Path) -> tuple[list[tuple[str, str]], list[str]]:
    """What a page loads ((what, url) of scripts, stylesheets, images, frames, fonts in styles) and links to."""
    if page.suffix == ".css":
        return [("stylesheet", u) for u in _CSS_URLS.findall(page.read_text(encoding="utf-8"))], []
    parser = _References()
    parser.feed(page.read_text(encoding="utf-8", errors="replace"))
    return parser.assets, parser.links


def remote_references(folder: Path, links: bool = False) -> list[str]:
    """Every reference in the folder's pages and stylesheets that loads something from the network, as
    "page: what url" lines (none for a site that works offline); `links` adds plain hyperlinks."""
    found = []
    for page in sorted([*folder.rglob("*.html"), *folder.rglob("*.css")]):
        assets, hyperlinks = page_references(page)
        name = page.relative_to(folder).as_posix()
        found += [f"{name}: {what} {url}" for what, url in assets if is_remote(url)]
        if links:
            found += [f"{name}: <a href> {url}" for url in hyperlinks if is_remote(url)]
    return found


def broken_links(page: Path) -> list[str]:
    """The page's local links and assets that name no file (fragments and queries ignored)."""
    assets, links = page_references(page)
    broken = []
    for url in [u for _, u in assets] + links:
        parts = urlsplit(url)
        if parts.scheme or url.startswith(("#", "//")) or not parts.path:
            continue
        try:
            found = (page.parent / unquote(parts.path)).exists()
        except OSError:  # e.g. a name too long to be a file
            found = False
        if not found:
            broken.append(url)
    return broken


# --- what goes into the site ---------------------------------------------------------------------------------


@dataclass
class ReportRun:
    """One report run as the index lists it; paths are relative to the site's folder."""

    kind: str
    day: str
    run_id: str  # "" for a report of the old one-folder-per-date layout
    html: str | None
    data_docs: str | None = None
    latest: bool = False
    passed: bool | None = None  # a reconciliation's verdict (summary.json), None for other kinds
    message: str = ""


@dataclass
class Site:
    folder: Path
    dbt_docs: str | None
    reports: list[ReportRun] = field(default_factory=list)
    history: list[dict] | None = None
    history_note: str = ""
    dropped: list[str] = field(default_factory=list)  # remote URLs removed without a local copy

    @property
    def index(self) -> Path:
        return self.folder / "index.html"


def default_folder(settings: Settings) -> Path:
    return settings.reports_dir / "site"


def report_runs(reports_dir: Path) -> list[tuple[str, str, str, Path, bool]]:
    """(kind, date, run id, folder, latest) of every report run under the reports folder, newest date first.

    Knows both layouts: `<kind>/<date>/<run id>/` with a `LATEST` file, and the older `<kind>/<date>/`.
    Hidden folders and built sites (the default site lives in the reports folder) are not reports.
    """
    runs = []
    if not reports_dir.is_dir():
        return runs
    for kind_dir in sorted(p for p in reports_dir.iterdir() if p.is_dir() and not p.name.startswith(".")):
        if (kind_dir / MARKER).exists():
            continue
        for day_dir in sorted((p for p in kind_dir.iterdir() if p.is_dir() and _DAY.match(p.name)), reverse=True):
            pointer = day_dir / "LATEST"
            latest = pointer.read_text(encoding="utf-8").strip() if pointer.is_file() else None
            if (day_dir / f"{kind_dir.name}.html").exists():
                runs.append((kind_dir.name, day_dir.name, "", day_dir, True))
            folders = [p for p in day_dir.iterdir() if p.is_dir() and not p.is_symlink() and p.name[0] != "."]
            for run in sorted(folders, key=lambda p: p.name, reverse=True):
                if run.name != "gx" and any(run.glob("*.html")):
                    runs.append((kind_dir.name, day_dir.name, run.name, run, run.name == latest))
    return runs


def _summary(folder: Path) -> dict:
    try:
        return json.loads((folder / "summary.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}


def copy_report(site: Path, static: Path, kind: str, day: str, run_id: str, folder: Path) -> tuple[ReportRun, list]:
    """A report run's HTML (and a reconciliation's Data Docs) copied into the site, made to load nothing remote."""
    target = site / "reports" / kind / day / run_id if run_id else site / "reports" / kind / day
    target.mkdir(parents=True, exist_ok=True)
    dropped: list[str] = []
    pages = sorted(folder.glob("*.html"), key=lambda p: (p.name != f"{kind}.html", p.name))
    for page in pages:
        copied = target / page.name
        text, gone = offline_page(page.read_text(encoding="utf-8", errors="replace"), copied, static)
        copied.write_text(text, encoding="utf-8")
        dropped += gone
    main = target / pages[0].name if pages else None
    summary = _summary(folder)
    run = ReportRun(kind, day, run_id, main.relative_to(site).as_posix() if main else None)
    if "passed" in summary:
        run.passed, run.message = bool(summary["passed"]), str(summary.get("message", ""))
    docs = folder / DATA_DOCS_IN_REPORT
    if (docs / "index.html").exists():
        shutil.copytree(docs, target / DATA_DOCS, dirs_exist_ok=True)
        dropped += offline_data_docs(target / DATA_DOCS, static)
        run.data_docs = (target / DATA_DOCS / "index.html").relative_to(site).as_posix()
    return run, dropped


def dbt_docs(settings: Settings, target: str | None = None) -> Path:
    """`dbt docs generate --static` on the target's warehouse: dbt's single-page docs (manifest and catalog
    inside), in dbt's target path; dbt's log goes to its log path."""
    from ecomdwh import dbt_runner
    from ecomdwh.warehouse.connection import resolve_target

    chosen = resolve_target(settings, target)
    if chosen == "local" and not settings.warehouse_path.exists():
        raise UserError(
            f"There is no warehouse at {settings.warehouse_path} yet, and dbt's docs read its catalog; "
            "run `ecomdwh run` first, or build the site without dbt's docs (--no-dbt)."
        )
    result = dbt_runner.run_dbt(settings, ["docs", "generate", "--static"], chosen, capture=True)
    page = settings.dbt_target_path / "static_index.html"
    if result.returncode != 0 or not page.exists():
        lines = [line for line in (result.stdout or "").splitlines() if line.strip()]
        last = re.sub(r"\x1b\[[0-9;]*m", "", lines[-1]).strip() if lines else "dbt failed"
        raise UserError(
            f"dbt docs generate failed on the {chosen} target ({last}); "
            f"see {settings.dbt_log_path / 'dbt.log'} and retry once the warehouse is built and not being written."
        )
    return page


# dbt's docs page loads its usage tracker from a CDN when the manifest allows tracking; a local site never does.
_DBT_TRACKER = re.compile(r"""(\.src\s*=\s*)(["'])(?:https?:)?//[^"']*\2""")


def offline_dbt_docs(text: str) -> str:
    return _DBT_TRACKER.sub(r'\1""', text)


def run_history(settings: Settings, target: str | None = None, limit: int = 50) -> tuple[list[dict] | None, str]:
    """The newest recorded runs from the warehouse's `ops.runs` table (see ecomdwh.run_history), newest first,
    and a note; (None, reason) where there is no warehouse, no ops schema yet, or it cannot be read now."""
    from ecomdwh.warehouse.connection import connect, read_sql, resolve_target

    chosen = resolve_target(settings, target)
    if chosen == "local" and not settings.warehouse_path.exists():
        return None, "no warehouse yet"
    try:
        con = connect(settings, chosen, read_only=True)
    except Exception as exc:  # noqa: BLE001 - the site is still built; the index says why the history is missing
        return None, f"the {chosen} warehouse could not be opened ({type(exc).__name__})"
    try:
        found = read_sql(
            con,
            "select count(*) as n from information_schema.tables where table_schema = 'ops' and table_name = 'runs'",
        )
        if not int(found.iloc[0, 0]):
            return None, "no ops schema in the warehouse yet"
        frame = read_sql(
            con,
            "select run_id, kind, run_date, target, status, verdict, seconds, started_at, message "
            f"from ops.runs order by started_at desc limit {int(limit)}",
        )
    except Exception as exc:  # noqa: BLE001 - as above
        return None, f"ops.runs could not be read ({type(exc).__name__})"
    finally:
        con.close()
    rows = json.loads(frame.to_json(orient="records", date_format="iso"))
    return rows, f"the {len(rows)} newest runs recorded in the {chosen} warehouse's ops schema"


# --- the index and the build -------------------------------------------------------------------------------------


def render_index(site: Site, settings: Settings, built_at: str) -> str:
    from jinja2 import Environment, FileSystemLoader, select_autoescape

    env = Environment(loader=FileSystemLoader(HERE / "templates"), autoescape=select_autoescape(["html", "j2"]))
    kinds: dict[str, list[ReportRun]] = {}
    for run in site.reports:
        kinds.setdefault(run.kind, []).append(run)
    return env.get_template("index.html.j2").render(
        site=site, kinds=kinds, settings=settings, built_at=built_at, static=STATIC
    )


def _prepare(out: Path) -> Path:
    """The folder to build into, beside `out`; refuses an `out` that holds something other than a built site."""
    if out.exists() and (not out.is_dir() or (any(out.iterdir()) and not (out / MARKER).exists())):
        raise UserError(f"{out} exists and is not a docs site built by ecomdwh; choose another --out or remove it.")
    building = out.parent / f".{out.name}.building-{os.getpid()}"
    if building.exists():
        shutil.rmtree(building)
    building.mkdir(parents=True)
    return building


def _replace(building: Path, out: Path) -> None:
    """Put the new site in place of the old one, so a reader never sees half of either."""
    old = out.parent / f".{out.name}.old-{os.getpid()}"
    if out.exists():
        out.rename(old)
    building.rename(out)
    if old.exists():
        shutil.rmtree(old)


def build(
    settings: Settings, out: Path | None = None, target: str | None = None, with_dbt: bool = True, log=None
) -> Site:
    """Build the site into `out` (default <reports dir>/site/), replacing an earlier build there."""
    out = (out or default_folder(settings)).resolve()
    log = log or (lambda _line: None)
    building = _prepare(out)
    try:
        static = copy_static(building / STATIC)
        site = Site(building, None)
        if with_dbt:
            log("dbt docs generate --static ...")
            page = dbt_docs(settings, target)
            (building / DBT_DOCS).parent.mkdir(parents=True)
            (building / DBT_DOCS).write_text(offline_dbt_docs(page.read_text(encoding="utf-8")), encoding="utf-8")
            site.dbt_docs = DBT_DOCS
        for kind, day, run_id, folder, latest in report_runs(settings.reports_dir):
            if folder.resolve() == out or out in folder.resolve().parents:
                continue
            run, dropped = copy_report(building, static, kind, day, run_id, folder)
            run.latest = latest
            site.reports.append(run)
            site.dropped += dropped
        log(f"{len(site.reports)} report run(s) copied")
        site.history, site.history_note = run_history(settings, target)
        built_at = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
        (building / "index.html").write_text(render_index(site, settings, built_at), encoding="utf-8")
        (building / MARKER).write_text("built by `ecomdwh docs`; replaced whole by the next build\n")
        remote = remote_references(building)
        if remote:
            raise UserError(
                f"The docs site would load {len(remote)} file(s) from the network, e.g. {remote[0]}; "
                "this is a bug in ecomdwh.docs_site: report it with that line."
            )
        _replace(building, out)
    except BaseException:
        shutil.rmtree(building, ignore_errors=True)
        raise
    site.folder = out
    return site
