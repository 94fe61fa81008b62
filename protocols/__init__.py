"""Wire formats: PC-RSU envelopes and frames, air-link PDUs, APDUs, card and OBU file records."""
