"""``liangye policy list`` and ``liangye policy show``: the policy catalogue, readable in Chinese."""

from __future__ import annotations

import json
import sys
from typing import Annotated

import typer
from rich.console import Console

# The tables (and the policy model, with pandas behind it) load when a command runs.

policy_app = typer.Typer(
    add_completion=False,
    no_args_is_help=True,
    help="政策文件：每个项目、级别、金额、条件与名额及其条款。\nThe policy documents: every "
    "programme, level, amount, rule and quota with its clause.",
)


@policy_app.command("list")
def list_command(
    as_json: Annotated[
        bool, typer.Option("--json", help="在标准输出打印 JSON; print JSON to stdout")
    ] = False,
) -> None:
    """内置政策一览：文件、年份与编码程度。
    Every bundled policy: its document, years and how much of it is encoded."""
    from liangye.model.policy import load_policy

    from .loader import bundled_policies

    rows = []
    for policy_id, path in bundled_policies().items():
        policy = load_policy(path)
        rows.append(
            {
                "id": policy_id,
                "title": policy.title,
                "issuer": policy.issuer,
                "years": list(policy.years),
                "programmes": len(policy.programmes),
                "levels": sum(len(p.levels) for p in policy.programmes),
                "quotas": len(policy.quotas),
                "targets": len(policy.targets),
            }
        )
    if as_json:
        sys.stdout.write(json.dumps(rows, ensure_ascii=False) + "\n")
        return
    console = Console()
    # A block per document, not a table: the titles are sentences of 30-40 characters, and a
    # table of eight columns folded them two characters a line at 80 columns (review 15).
    console.print("[bold]政策文件[/]（编号  年份  项目/级别/指标/目标数；文件名称；发布机关）")
    for row in rows:
        first, last = row["years"]
        years = f"{first}-{last}" if first != last else str(first)
        counts = (
            f"项目 {row['programmes']}  级别 {row['levels']}  指标 {row['quotas']}  "
            f"目标 {row['targets']}"
        )
        console.print(f"\n[bold]{row['id']}[/]  {years}  {counts}", highlight=False)
        console.print(f"  {row['title']}", highlight=False)
        console.print(f"  {row['issuer'] or '未署名'}", highlight=False)


@policy_app.command("show")
def show_command(
    policy_id: Annotated[
        str, typer.Argument(help="内置政策编号或政策文件; a bundled policy id, or a policy file")
    ],
    as_json: Annotated[
        bool, typer.Option("--json", help="在标准输出打印 JSON; print JSON to stdout")
    ] = False,
) -> None:
    """一份政策的全部内容：项目、级别、金额、条件、名额及条款。
    One policy in full: programmes, levels, amounts, rules, quotas, targets, references."""
    from .loader import load_policy_reference
    from .policy_tables import (
        STACKING,
        UPGRADE,
        balance_table,
        flat_note,
        list_table,
        metadata_table,
        policy_json,
        programme_table,
        provision_table,
        quota_table,
        reserve_table,
        target_table,
    )

    policy = load_policy_reference(policy_id)
    if as_json:
        sys.stdout.write(json.dumps(policy_json(policy), ensure_ascii=False) + "\n")
        return
    console = Console()
    header = [
        f"[bold]{policy.title}[/]（{policy.id}）",
        f"发布机关：{policy.issuer or '未署名'}"
        + (f"    发布日期：{policy.issued.isoformat()}" if policy.issued else ""),
        f"年份：{policy.years[0]}-{policy.years[1]}"
        + (f"    有效期至：{policy.valid_until.isoformat()}" if policy.valid_until else ""),
        f"决策与出资：{policy.deciding_level.chinese}    叠加规则：{STACKING[policy.stacking]}"
        f"    晋级：{UPGRADE[policy.upgrade]}",
    ]
    if policy.reference:
        header.append(f"出处：{policy.reference}")
    if policy.source:
        header.append(f"来源文件：{policy.source}")
    console.print("\n".join(header), highlight=False)
    if policy.note or policy.note_zh:
        note = flat_note(policy.note_zh or policy.note)
        console.print(f"说明：{note}", highlight=False, markup=False)
    for table in (
        programme_table(policy),
        metadata_table(policy),
        quota_table(policy),
        balance_table(policy),
        reserve_table(policy),
        target_table(policy),
        list_table(policy),
        provision_table(policy),
    ):
        if table is not None:
            console.print(table)
