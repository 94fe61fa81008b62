"""What the centre does through devices: the `CardReader` and `Personaliser` ports, the APDU
session with a card at the outlet's reader, the issuer host's side of the load cryptography
and personalisation keys, and opening a device by name. Uses no other room."""
