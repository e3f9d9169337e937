-- One credit of 50 to a wallet drawn from 1..:wallets (`pgbench -D wallets=N`; 1 for one hot
-- wallet): the wallet's balance, seq and head move and the entry is appended, in one statement
-- (its own transaction). The entry's hash is SHA-256(previous head || seq:amount:balance).
\set w random(1, :wallets)
WITH moved AS (
    UPDATE ledger_wallets
       SET balance = balance + 50,
           seq = seq + 1,
           head = sha256(head || convert_to((seq + 1)::text || ':50:' || (balance + 50)::text, 'UTF8'))
     WHERE id = :w
 RETURNING id, seq, balance, head
)
INSERT INTO ledger_entries (wallet, seq, amount, balance, hash)
SELECT id, seq, 50, balance, head FROM moved;
