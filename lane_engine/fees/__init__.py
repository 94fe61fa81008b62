"""Fees: road network, fee-table builder, tables and their files, batch pricing."""
