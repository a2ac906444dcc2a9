"""The shop's tools as Rasa custom actions, served by ``rasa-sdk``'s own action server.

A shop that already runs a Rasa assistant keeps it: Rasa owns the dialogue (NLU, stories,
flows) and calls ``action_<tool>`` on our action server, which runs the tool through the same
policy layer as our own assistant (:class:`~tools.policy.ToolExecutor`). That is why this
connector, unlike the web and Telegram ones, calls the tools and not the ``Assistant``:

- arguments come from the tracker (the latest message's entities, then slots named like the
  tool's arguments: :mod:`connectors.rasa.slots`); a missing one is asked for, never guessed;
- who the customer is comes from :mod:`connectors.rasa.identity`: ``action_verify_customer`` checks
  their facts and binds the verified customer to the conversation's sender id *here*, in the
  shop's store; the ``verified_customer`` slot only mirrors it, and a slot that does not match
  is refused as forged;
- side effects need ``action_prepare_<tool>`` (a summary and a confirmation token, held in a
  slot and signed for exactly that call) before ``action_<tool>``; a repeated call replays;
- results come back as ``SlotSet`` events and bot messages, products as a custom payload
  (:mod:`connectors.rasa.messages`).

``shopassist rasa-export`` writes a starter Rasa project for these actions
(:mod:`connectors.rasa.project`).
"""
