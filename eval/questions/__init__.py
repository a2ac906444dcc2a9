"""Price and availability questions about named variants, asked on any catalog."""
