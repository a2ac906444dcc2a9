"""The people behind the shop: support-staff accounts and the support desk, where agents take
conversations over from the bot and hand them back."""
