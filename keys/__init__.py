"""Card cryptography (3DES and SM4), key sets and the software PSAM."""
