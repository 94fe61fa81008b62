"""`etc-centre init`: create (or migrate) the store and read the configuration into it."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from centre.cli.desk import add_json, add_store, dump, shown_path
from centre.config import keep_config, load_config
from centre.store.migrations import LATEST
from centre.store.store import Store

NAME = "init"
HELP = """\
Create the centre's store (SQLite file or PostgreSQL database) or bring it to the latest schema,
and read the configuration into it: the issuer (what personalisation writes into 0015), the
rules' parameters (purse limit, bill term, holidays), the outlets and the status lists'
plazas. Run it again after changing the file: outlets are added or updated, never removed.

examples:
  etc-centre init --store var/centre.sqlite3 --config examples/centre.toml
  etc-centre init --store postgresql://centre@db.example/centre --config centre.toml --json
"""


def add_parser(commands: Any) -> None:
    parser = commands.add_parser(NAME, help="create the store and read the configuration",
                                 description=HELP)
    add_store(parser)
    parser.add_argument("--config", type=Path, required=True, metavar="FILE",
                        help="the centre's configuration (TOML, see examples/centre.toml)")
    add_json(parser)


def run(args: argparse.Namespace) -> int:
    config = load_config(args.config)
    if not args.store.startswith(("postgresql://", "postgres://")):
        Path(args.store).parent.mkdir(parents=True, exist_ok=True)
    with Store.open(args.store) as store:
        with store.transaction() as tx:
            keep_config(tx, config)
            outlets = [o.outlet_id for o in tx.registry.outlets()]
        where = store.where
    issuer = config.service.issuer
    plazas = [f"{n}/{s}" for n, s in config.lists.plazas]
    document = {"store": where, "schema": LATEST, "outlets": outlets,
                "issuer": {"network": issuer.network, "code": issuer.issuer_code,
                           "province": issuer.province, "key_version": issuer.key_version},
                "plazas": plazas,
                "lists_folder": config.lists.folder}
    text = (f"store {where}: {len(outlets)} outlets ({', '.join(outlets)})\n"
            f"issuer {issuer.province} {issuer.issuer_code}, network {issuer.network}, key "
            f"version {issuer.key_version}; lists to {', '.join(plazas) or 'none'}"
            f" from {shown_path(config.lists.folder)}")
    return dump(document, args, text)
