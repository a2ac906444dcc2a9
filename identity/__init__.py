"""Who a customer is: the verification levels (``auth.level``), guessing limits that hold across
conversations, one-time codes by mail, the shop's signed customer tokens, and masking what is
shown of an account before and after verification."""
