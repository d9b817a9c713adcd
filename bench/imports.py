"""Ledger import benchmark: 100,000 workers and 100,000 cases through ``banshi import``,
with the time and the peak memory of each run.

How to run (from the repository root)::

    uv run --group dev python bench/imports.py                  # 100,000 rows of each, XLSX
    uv run --group dev python bench/imports.py --rows 20000 --format csv

It makes a fresh database (``--database``, default ``banshi_bench_import``, dropped first)
on PostgreSQL at 127.0.0.1:5432 (user postgres), migrates it and loads the reference data
with fresh keys, and adds one steward, 王丽. Then it writes a workers ledger (``--rows``
workers, valid ID numbers, names, mobiles, districts by name, talent cards) and a cases
ledger (one open case per worker: items by code, received dates through 2026 as Excel
dates, the four open statuses, a ledger number) as XLSX (``--format xlsx``, written by
XlsxWriter with shared strings, as Excel writes them) or as GB18030 CSV (``--format csv``,
what Excel in Chinese saves), and runs, each as its own ``banshi import`` process:

1. workers, ``--dry-run``;   2. workers;   3. workers again (every row already there);
4. cases, ``--dry-run``;     5. cases;     6. cases again.

For each run it prints the wall time, rows per second, and the peak resident memory of
the ``banshi import`` process (``wait4``'s ``ru_maxrss``), and at the end the rows the
database holds. Exit status 1 when a run does not end as expected.
"""

from __future__ import annotations

import argparse
import csv
import os
import random
import subprocess
import sys
import tempfile
import time
from datetime import date, datetime, timedelta
from pathlib import Path

import asyncpg
import xlsxwriter

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from service.domain.identity import id_check_character  # noqa: E402
from service.domain.ledger import CASE_COLUMNS, WORKER_COLUMNS  # noqa: E402
from service.security.keys import generate_env  # noqa: E402

SERVER = "postgresql://postgres@127.0.0.1:5432"
BANSHI = [sys.executable, "-c", "from service.cli import main; main()"]
SURNAMES = (
    "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈"
    "姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛郝龚邵万钱严覃武戴莫孔向汤"
)
GIVEN = "明华建国伟芳娜敏静丽强磊军洋勇艳杰娟涛超秀霞平刚桂英华玉兰萍红鹏辉飞鑫波宇浩凯健俊帆"
DISTRICTS = [
    "渝中区",
    "江北区",
    "沙坪坝区",
    "九龙坡区",
    "南岸区",
    "北碚区",
    "渝北区",
    "巴南区",
    "两江新区",
    "重庆高新区",
]
EMPLOYERS = ["重庆大学", "西南大学", "中国科学院重庆绿色智能技术研究院", "重庆邮电大学", "长安汽车工程研究总院"]
ITEMS = [f"WL-{n:02d}" for n in range(1, 21)]
STATUSES = ["待受理", "已受理", "办理中", "办理中", "办理中", "待补件"]
CHANNELS = ["电话", "现场", "微信", "网站", "服务平台"]


def national_id(i: int) -> str:
    """A valid, unique ID number for each i below 300,000."""
    region = 500101 + i % 20
    born = date(1960, 1, 1) + timedelta(days=(i // 20) % 15000)
    first17 = f"{region}{born:%Y%m%d}{i % 1000:03d}"
    return first17 + id_check_character(first17)


def worker_rows(count: int, rng: random.Random) -> list[list[object]]:
    return [
        [
            rng.choice(SURNAMES) + rng.choice(GIVEN) + rng.choice(GIVEN),
            national_id(i),
            f"139{i:08d}",
            rng.choice(DISTRICTS),
            rng.choice(EMPLOYERS),
            rng.choice(["A卡", "B卡", "无", ""]),
            rng.choice(["新材料", "人工智能", "生物医药", "集成电路", ""]),
            "王丽",
        ]
        for i in range(count)
    ]


def case_rows(count: int, rng: random.Random, serial_dates: bool) -> list[list[object]]:
    first = date(2026, 1, 5)
    rows: list[list[object]] = []
    for i in range(count):
        received = first + timedelta(days=rng.randrange(0, 320))
        day: object = datetime(received.year, received.month, received.day) if serial_dates else f"{received:%Y/%m/%d}"
        item = rng.choice(ITEMS)
        rows.append(
            [
                national_id(i),
                "",
                item,
                f"诉求{i}",
                "台账导入的办件",
                day,
                rng.choice(STATUSES),
                "",
                "",
                rng.choice(CHANNELS),
                f"TZ-{i:06d}",
            ]
        )
    return rows


def write_xlsx(path: Path, titles: list[str], rows: list[list[object]]) -> None:
    book = xlsxwriter.Workbook(str(path))  # shared strings, as Excel writes them
    sheet = book.add_worksheet("台账")
    day = book.add_format({"num_format": "yyyy-mm-dd"})
    sheet.write_row(0, 0, titles)
    for r, row in enumerate(rows, start=1):
        for c, value in enumerate(row):
            if isinstance(value, datetime):
                sheet.write_datetime(r, c, value, day)
            else:
                sheet.write_string(r, c, str(value))
    book.close()


def write_csv(path: Path, titles: list[str], rows: list[list[object]]) -> None:
    with path.open("w", encoding="gb18030", newline="") as stream:
        writer = csv.writer(stream)
        writer.writerow(titles)
        writer.writerows(rows)


def run(env: dict[str, str], kind: str, path: Path, *flags: str) -> tuple[float, float, str]:
    """One ``banshi import``; returns seconds, peak RSS in MB and its summary line."""
    command = [*BANSHI, "import", kind, str(path), *flags]
    started = time.perf_counter()
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        process = subprocess.Popen(command, env=env, cwd=ROOT, stdout=out, stderr=err)  # noqa: S603 - our own argv
        _, status, usage = os.wait4(process.pid, 0)
        seconds = time.perf_counter() - started
        process.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        err.seek(0)
        summary = out.read().decode().strip() or err.read().decode().strip().splitlines()[-1]
    return seconds, usage.ru_maxrss / 1024, summary


async def prepare(database: str) -> None:
    admin = await asyncpg.connect(f"{SERVER}/postgres")
    try:
        await admin.execute(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')
        await admin.execute(f'CREATE DATABASE "{database}"')
    finally:
        await admin.close()


async def add_steward(url: str) -> None:
    connection = await asyncpg.connect(url)
    try:
        await connection.execute(
            "INSERT INTO staff (id, name, role, active, created_at, updated_at) "
            "VALUES (gen_random_uuid(), '王丽', 'steward', true, now(), now())"
        )
    finally:
        await connection.close()


async def counts(url: str) -> dict[str, int]:
    connection = await asyncpg.connect(url)
    try:
        return {
            "workers": await connection.fetchval("SELECT count(*) FROM worker"),
            "cases": await connection.fetchval('SELECT count(*) FROM "case"'),
            "case events": await connection.fetchval("SELECT count(*) FROM case_event"),
            "cases counted in the tallies": await connection.fetchval(
                "SELECT coalesce(sum(received), 0) FROM case_tally WHERE span = 'year'"
            ),
        }
    finally:
        await connection.close()


def main() -> int:
    import asyncio

    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--format", choices=["xlsx", "csv"], default="xlsx")
    parser.add_argument("--database", default="banshi_bench_import")
    args = parser.parse_args()
    url = f"{SERVER}/{args.database}"
    env = {**os.environ, **generate_env(), "DATABASE_URL": url}
    folder = Path(tempfile.mkdtemp(prefix="banshi-bench-import-"))
    env["BANSHI_ATTACHMENTS_DIR"] = str(folder / "files")
    asyncio.run(prepare(args.database))
    for step in (["db", "upgrade"], ["load-reference"]):
        subprocess.run([*BANSHI, *step], env=env, cwd=ROOT, check=True, capture_output=True)  # noqa: S603
    asyncio.run(add_steward(url))
    subprocess.run(  # noqa: S603 - our own argv
        [*BANSHI, "users", "create", "--role", "admin", "--username", "admin"],
        env=env,
        cwd=ROOT,
        check=True,
        capture_output=True,
        input=b"Bench-Import-2026!\n",
    )
    rng = random.Random(2026)  # noqa: S311 - test data, not a secret
    started = time.perf_counter()
    workers = folder / f"workers.{args.format}"
    cases = folder / f"cases.{args.format}"
    write = write_xlsx if args.format == "xlsx" else write_csv
    write(workers, [c.title for c in WORKER_COLUMNS], worker_rows(args.rows, rng))
    write(cases, [c.title for c in CASE_COLUMNS], case_rows(args.rows, rng, args.format == "xlsx"))
    print(
        f"Ledgers of {args.rows:,} rows written in {time.perf_counter() - started:.1f} s "
        f"({workers.stat().st_size / 1e6:.1f} MB and {cases.stat().st_size / 1e6:.1f} MB, {args.format})"
    )
    print(f"{'run':<28} {'seconds':>8} {'rows/s':>9} {'peak MB':>8}  summary")
    failed = False
    for kind, path, flags, expect in (
        ("workers", workers, ("--dry-run",), '"status": "checked"'),
        ("workers", workers, (), f'"imported": {args.rows}'),
        ("workers", workers, (), f'"existing": {args.rows}'),
        ("cases", cases, ("--dry-run",), '"status": "checked"'),
        ("cases", cases, (), f'"imported": {args.rows}'),
        ("cases", cases, (), f'"existing": {args.rows}'),
    ):
        seconds, peak, summary = run(env, kind, path, *flags)
        label = f"{kind} {' '.join(flags) or 'import'}"
        print(f"{label:<28} {seconds:>8.1f} {args.rows / seconds:>9,.0f} {peak:>8.0f}  {summary}")
        failed |= expect not in summary
    print("In the database:", asyncio.run(counts(url)))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
