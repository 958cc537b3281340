"""The IndexedDB store's JavaScript half. app/browser/idb.py says why it is JavaScript: each
guarded write chains its reads and its write inside one transaction, which commits as soon as no
request is pending, so the steps cannot cross into Python and back."""

# The v1 -> v2 upgrade: messages become a tree (see idb._v2).
V2_JS = """
(db, tx) => {
  const messages = tx.objectStore("messages");
  messages.createIndex("byLane", ["conversationId", "lane", "createdAt"]);
  messages.createIndex("byFork", ["conversationId", "forkParent"]);
  db.createObjectStore("prefs");
  let conversation = null;
  let previous = null;
  let lane = null;
  const cursor = messages.index("byConversationTime").openCursor();
  cursor.onsuccess = () => {
    const at = cursor.result;
    if (!at) return;
    const record = { ...at.value };
    if (record.conversationId !== conversation) {
      conversation = record.conversationId;
      previous = null;
      lane = record.id;
    }
    record.parentId = previous;
    record.lane = lane;
    if (lane === record.id) record.forkParent = "";
    else delete record.forkParent;
    at.update(record);
    previous = record.id;
    at.continue();
  };
}
"""

# The store's helpers: open with a time limit, guarded writes, branch reads, imports.
JS = """
(() => {
  const fail = (name, message) => Object.assign(new Error(message), { name });
  const request = (req) => new Promise((resolve, reject) => {
    req.onsuccess = () => resolve(req.result);
    req.onerror = () => reject(req.error);
  });
  const open = (name, version, upgrade, timeoutMs) => new Promise((resolve, reject) => {
    let settled = false;
    let blocked = false;
    const done = (fn, value) => {
      if (!settled) { settled = true; clearTimeout(timer); fn(value); }
    };
    const timer = setTimeout(() => done(reject, fail("OpenTimeout", blocked
      ? "another Parlance tab is keeping an older version of the database open; close it"
      : `the database did not open within ${timeoutMs / 1000} seconds`)), timeoutMs);
    let req;
    try {
      req = indexedDB.open(name, version);
    } catch (error) {
      done(reject, error);
      return;
    }
    req.onupgradeneeded = (event) => upgrade(req.result, req.transaction, event.oldVersion);
    req.onblocked = () => { blocked = true; };
    req.onerror = (event) => { event.preventDefault(); done(reject, req.error); };
    req.onsuccess = () => {
      const db = req.result;
      if (settled) { db.close(); return; }  // too late: the app went on without it
      db.onversionchange = () => { db.close(); db.__closedByUpgrade = true; };
      done(resolve, db);
    };
  });
  const rangeOf = (id) => IDBKeyRange.bound([id, -Infinity], [id, Infinity]);
  // One guarded write: the conversation must exist; `expectNewest` (when present) must be the
  // id of its newest message (null: none). Then `run(stores, conversation)` writes.
  const guarded = (db, conversationId, expectNewest, run) => new Promise((resolve, reject) => {
    if (db.__closedByUpgrade) {
      reject(fail("Closed", "a newer Parlance was opened in another tab; reload this page"));
      return;
    }
    const tx = db.transaction(["conversations", "messages"], "readwrite");
    const conversations = tx.objectStore("conversations");
    const messages = tx.objectStore("messages");
    let refusal = null;
    let result = null;
    tx.oncomplete = () => resolve(result);
    tx.onabort = () => reject(refusal ?? tx.error ?? fail("AbortError", "the write was aborted"));
    const refuse = (error) => { refusal = error; tx.abort(); };
    const proceed = (conversation) => {
      try {
        result = run({ conversations, messages }, conversation);
      } catch (error) {
        refuse(error);  // e.g. a full disk refusing put(): nothing of this write is kept
        return;
      }
      // A write that reads more first answers with a promise, settled before the commit.
      if (result && typeof result.then === "function") {
        result.then((value) => { result = value; }, (error) => refuse(error));
      }
    };
    const got = conversations.get(conversationId);
    got.onsuccess = () => {
      const conversation = got.result;
      if (!conversation) { refuse(fail("ConversationGone", conversationId)); return; }
      if (expectNewest === undefined) { proceed(conversation); return; }
      const cursor = messages.index("byConversationTime")
        .openKeyCursor(rangeOf(conversationId), "prev");
      cursor.onsuccess = () => {
        const newest = cursor.result ? cursor.result.primaryKey : null;
        if (newest !== expectNewest) { refuse(fail("HistoryChanged", conversationId)); return; }
        proceed(conversation);
      };
    };
  });
  const touch = (stores, conversation, at) => {
    if (typeof at === "number" && !(conversation.updatedAt >= at)) {
      stores.conversations.put({ ...conversation, updatedAt: at });
    }
  };
  return {
    request,
    open,
    create: (db, record) => new Promise((resolve, reject) => {
      const tx = db.transaction("conversations", "readwrite");
      tx.objectStore("conversations").add(record);
      tx.oncomplete = () => resolve();
      tx.onabort = () => reject(tx.error);
    }),
    update: (db, id, change) => guarded(db, id, undefined, (stores, conversation) => {
      const updated = { ...conversation };
      if ("title" in change) updated.title = change.title;
      if ("model" in change) updated.model = change.model;
      if ("settings" in change) updated.settings = change.settings;
      if ("lane" in change) updated.lane = change.lane;
      if (typeof change.touchedAt === "number" && !(updated.updatedAt >= change.touchedAt)) {
        updated.updatedAt = change.touchedAt;
      }
      stores.conversations.put(updated);
      return updated;
    }),
    // A new message under record.parentId, in the lane tree.py says; refused when the parent
    // has a child already unless `branch`.
    append: (db, record, branch) => guarded(
      db, record.conversationId, undefined, (stores, conversation) => {
        const place = (parent, hasChild) => {
          if (hasChild && !branch) { throw fail("HistoryChanged", record.conversationId); }
          const lane = parent && !hasChild ? parent.lane : record.id;
          const stored = { ...record, lane };
          if (lane === record.id) stored.forkParent = record.parentId ?? "";
          else delete stored.forkParent;
          stores.messages.add(stored);
          const updated = { ...conversation, lane };
          if (!(updated.updatedAt >= record.createdAt)) updated.updatedAt = record.createdAt;
          stores.conversations.put(updated);
          return stored;
        };
        return new Promise((resolve, reject) => {
          const settle = (fn) => { try { resolve(fn()); } catch (error) { reject(error); } };
          if (record.parentId === null || record.parentId === undefined) {
            const any = stores.messages.index("byConversationTime")
              .openKeyCursor(rangeOf(record.conversationId));
            any.onsuccess = () => settle(() => place(null, !!any.result));
            return;
          }
          const got = stores.messages.get(record.parentId);
          got.onsuccess = () => {
            const parent = got.result;
            const lost = !parent || typeof parent.lane !== "string" || !parent.lane;
            if (lost || parent.conversationId !== record.conversationId) {
              reject(fail("HistoryChanged", record.conversationId));
              return;
            }
            const after = stores.messages.index("byLane").openKeyCursor(IDBKeyRange.bound(
              [record.conversationId, parent.lane, parent.createdAt],
              [record.conversationId, parent.lane, Infinity], true, false));
            after.onsuccess = () => settle(() => place(parent, !!after.result));
          };
        });
      }),
    // Rewrite a stored message; where it sits in the tree stays as stored.
    put: (db, record, touchedAt) => guarded(
      db, record.conversationId, undefined, (stores, conversation) => new Promise(
        (resolve, reject) => {
          const got = stores.messages.get(record.id);
          got.onsuccess = () => {
            const stored = got.result;
            const placed = stored
              ? { ...record, parentId: stored.parentId, lane: stored.lane }
              : { ...record };
            if (stored && "forkParent" in stored) placed.forkParent = stored.forkParent;
            else delete placed.forkParent;
            try {
              stores.messages.put(placed);  // a full disk throws here
              touch(stores, conversation, touchedAt);
              resolve(null);
            } catch (error) {
              reject(error);
            }
          };
        })),
    // The branch ending at lane `wanted`'s newest message (else the one the conversation
    // was last shown on), or, with `before`, the branch above that message. With `limit`, the
    // walk reads lanes newest first and stops once it holds `limit` messages and `through`
    // (when given) with one more before it: a page of a long chat costs a page, not the chat.
    branch: (db, id, wanted, limit, through, before) => new Promise((resolve, reject) => {
      const tx = db.transaction(["conversations", "messages"]);
      const messages = tx.objectStore("messages");
      const byLane = messages.index("byLane");
      const path = [];
      let starts = [];
      tx.oncomplete = () => resolve({ messages: path, starts });
      tx.onabort = () => reject(tx.error ?? fail("AbortError", "the read was aborted"));
      // Records another hand wrote may loop (a parent that is its own descendant): each
      // message is taken once, and the walk ends where it would come back.
      const seen = new Set();
      let taken = 0;
      let throughAt = 0;
      const enough = () => limit != null && taken >= limit
        && (!through || (throughAt > 0 && taken > throughAt));
      // On to the lane above `record`: its parent's, up to the parent.
      const climb = (record) => {
        const parentId = record.parentId;
        if (parentId === null || parentId === undefined || seen.has(parentId)) return;
        const parent = messages.get(parentId);
        parent.onsuccess = () => {
          if (placed(parent.result)) walk(parent.result.lane, parent.result.createdAt);
        };
      };
      const up = (segment) => {
        if (!segment.length) return;
        path.unshift(...segment);
        if (!enough()) climb(segment[0]);
      };
      const walk = (lane, upTo) => {
        const range = IDBKeyRange.bound([id, lane, -Infinity], [id, lane, upTo]);
        if (limit == null) {
          const got = byLane.getAll(range);
          got.onsuccess = () => {
            const segment = [];
            for (const record of got.result) {
              if (seen.has(record.id)) break;
              seen.add(record.id);
              segment.push(record);
            }
            up(segment);
          };
          return;
        }
        const newestFirst = [];
        const cursor = byLane.openCursor(range, "prev");
        cursor.onsuccess = () => {
          const at = cursor.result;
          if (at && !seen.has(at.value.id)) {
            seen.add(at.value.id);
            newestFirst.push(at.value);
            taken += 1;
            if (at.value.id === through) throughAt = taken;
            if (!enough()) { at.continue(); return; }
          }
          up(newestFirst.reverse());
        };
      };
      const placed = (record) => record && typeof record.lane === "string" && record.lane;
      // The newest message that has a place in the tree (a record without a lane is not one).
      const fromNewest = () => {
        const newest = messages.index("byConversationTime").openCursor(rangeOf(id), "prev");
        newest.onsuccess = () => {
          const at = newest.result;
          if (!at) return;
          if (placed(at.value)) walk(at.value.lane, Infinity);
          else at.continue();
        };
      };
      const start = (lane) => {
        if (typeof lane !== "string" || !lane) { fromNewest(); return; }
        const tail = byLane.openKeyCursor(
          IDBKeyRange.bound([id, lane, -Infinity], [id, lane, Infinity]), "prev");
        tail.onsuccess = () => { if (tail.result) walk(lane, Infinity); else fromNewest(); };
      };
      const forks = messages.index("byFork").getAll(IDBKeyRange.bound([id, ""], [id, []]));
      forks.onsuccess = () => { starts = forks.result; };
      if (before) {
        const below = messages.get(before);
        below.onsuccess = () => {
          const record = below.result;
          if (!placed(record) || record.conversationId !== id) return;
          seen.add(record.id);
          climb(record);
        };
        return;
      }
      if (wanted) { start(wanted); return; }
      const conversation = tx.objectStore("conversations").get(id);
      conversation.onsuccess = () => start(conversation.result && conversation.result.lane);
    }),
    // Every conversation record, as JSON text: one string crosses into Python, where
    // json.loads builds ten thousand records far faster than converting JS objects one by one.
    listJson: (db) => new Promise((resolve, reject) => {
      const all = db.transaction("conversations").objectStore("conversations").getAll();
      all.onsuccess = () => resolve(JSON.stringify(all.result));
      all.onerror = () => reject(all.error);
    }),
    getPref: (db, key) => request(db.transaction("prefs").objectStore("prefs").get(key)),
    putPref: (db, key, value) => new Promise((resolve, reject) => {
      const tx = db.transaction("prefs", "readwrite");
      tx.objectStore("prefs").put(value, key);
      tx.oncomplete = () => resolve();
      tx.onabort = () => reject(tx.error);
    }),
    takenIds: (db, conversationIds, messageIds) => new Promise((resolve, reject) => {
      const tx = db.transaction(["conversations", "messages"]);
      const taken = [];
      const probe = (store, ids) => {
        for (const key of ids) {
          const found = tx.objectStore(store).getKey(key);
          found.onsuccess = () => { if (found.result !== undefined) taken.push(key); };
        }
      };
      probe("conversations", conversationIds);
      probe("messages", messageIds);
      tx.oncomplete = () => resolve(taken);
      tx.onabort = () => reject(tx.error);
    }),
    // Whole conversations in one transaction: add() never overwrites, so a taken id aborts
    // the lot and nothing is written.
    importAll: (db, conversations, messages) => new Promise((resolve, reject) => {
      const tx = db.transaction(["conversations", "messages"], "readwrite");
      let refusal = null;
      tx.oncomplete = () => resolve();
      tx.onabort = () => reject(
        refusal ?? tx.error ?? fail("AbortError", "the import was aborted"));
      try {
        for (const record of conversations) tx.objectStore("conversations").add(record);
        for (const record of messages) tx.objectStore("messages").add(record);
      } catch (error) {
        refusal = error;
        tx.abort();
      }
    }),
    remove: (db, id) => new Promise((resolve, reject) => {
      const tx = db.transaction(["conversations", "messages"], "readwrite");
      tx.objectStore("conversations").delete(id);
      const messages = tx.objectStore("messages");
      const cursor = messages.index("byConversationTime").openKeyCursor(rangeOf(id));
      cursor.onsuccess = () => {
        if (cursor.result) { messages.delete(cursor.result.primaryKey); cursor.result.continue(); }
      };
      tx.oncomplete = () => resolve();
      tx.onabort = () => reject(tx.error);
    }),
    messagesOf: (db, id) => request(
      db.transaction("messages").objectStore("messages").index("byConversationTime").getAll(rangeOf(id))),
  };
})()
"""
