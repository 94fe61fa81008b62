"""Card cryptography (3DES and SM4), key sets and the software PSAM."""

from importlib import metadata as _metadata

from keys.card import debit_for_purchase, transaction_proof
from keys.card_keys import CardKeys
from keys.ciphers import Algorithm, block_size, cbc_mac, ecb_encrypt, pad, unpad
from keys.clearing import ReportedTransaction, TacVerifier
from keys.derivation import (
    card_key,
    diversify,
    issuer_factor,
    issuer_key,
    load_session_key,
    purchase_session_key,
    sm4_session_key_block,
    tac_key,
)
from keys.errors import (
    CryptoInputError,
    KeyNotFoundError,
    KeysError,
    KeySetError,
    PsamError,
    PsamSequenceError,
    SerialStoreError,
    VehicleFileError,
)
from keys.keyset import KeySet, MasterKeys, generate_key_set, parse_key_set, seeded_random_bytes
from keys.load import (
    LoadTerms,
    LoadType,
    load_mac1,
    load_mac2,
    load_tac,
    verify_load_mac1,
    verify_load_mac2,
    verify_load_tac,
)
from keys.psam import Psam, SamPurchase, SoftwarePsam, network_of_issuer_factor
from keys.purchase import (
    PurchaseTerms,
    mac1,
    mac2,
    purchase_mac,
    tac,
    verify_mac1,
    verify_mac2,
    verify_tac,
)
from keys.secret import SecretKey
from keys.serial_store import FileSerialStore, MemorySerialStore, TerminalSerialStore
from keys.vehicle_file import (
    SealedVehicleFile,
    obu_vehicle_key,
    open_vehicle_file,
    seal_vehicle_file,
)

try:
    #: The version of the etc-lane-engine distribution this package belongs to.
    __version__ = _metadata.version("etc-lane-engine")
except _metadata.PackageNotFoundError:  # a source tree that was never installed
    __version__ = "0+unknown"

__all__ = [
    "Algorithm",
    "CardKeys",
    "CryptoInputError",
    "FileSerialStore",
    "KeyNotFoundError",
    "KeySet",
    "KeySetError",
    "KeysError",
    "LoadTerms",
    "LoadType",
    "MasterKeys",
    "MemorySerialStore",
    "Psam",
    "PsamError",
    "PsamSequenceError",
    "PurchaseTerms",
    "ReportedTransaction",
    "SamPurchase",
    "SealedVehicleFile",
    "SecretKey",
    "SerialStoreError",
    "SoftwarePsam",
    "TacVerifier",
    "TerminalSerialStore",
    "VehicleFileError",
    "__version__",
    "block_size",
    "card_key",
    "cbc_mac",
    "debit_for_purchase",
    "diversify",
    "ecb_encrypt",
    "generate_key_set",
    "issuer_factor",
    "issuer_key",
    "load_mac1",
    "load_mac2",
    "load_session_key",
    "load_tac",
    "mac1",
    "mac2",
    "network_of_issuer_factor",
    "obu_vehicle_key",
    "open_vehicle_file",
    "pad",
    "parse_key_set",
    "purchase_mac",
    "purchase_session_key",
    "seal_vehicle_file",
    "seeded_random_bytes",
    "sm4_session_key_block",
    "tac",
    "tac_key",
    "transaction_proof",
    "unpad",
    "verify_load_mac1",
    "verify_load_mac2",
    "verify_load_tac",
    "verify_mac1",
    "verify_mac2",
    "verify_tac",
]
