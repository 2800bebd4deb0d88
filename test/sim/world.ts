// The simulator's state: accounts and their sessions, articles (a draft and its published version share one
// id, as on Zhihu), topics, images and QR logins. No HTTP here.

import { nowSec, randomB64, randomHex } from "./util.js";

export interface Column {
  id: string;
  title: string;
}

export interface Account {
  name: string;
  /** 32-hex member id, as in /api/v4/me. */
  id: string;
  uid: string;
  urlToken: string;
  column: Column;
}

export interface Session {
  z_c0: string;
  account: Account;
  /** Set when revoked: the 401 code the session now gets (100, or 101). */
  revokedCode?: 100 | 101;
}

export interface Topic {
  id: string;
  name: string;
}

export interface Content {
  title: string;
  content: string;
  tableOfContents: boolean;
  canReward: boolean;
  titleImage: string;
}

export interface Article {
  id: string;
  account: Account;
  draft: Content;
  published: Content | null;
  topics: Topic[];
  column: Column | null;
  commentPermission: string;
  publishCount: number;
  publishedVia: Array<"current" | "legacy">;
  createdAt: number;
  updatedAt: number;
  publishedAt: number | null;
  deleted: boolean;
}

export interface ImageRecord {
  imageId: string;
  md5: string;
  bytes: Buffer | null;
  /** Status polls left answering "processing" after the bytes arrived. */
  processingPolls: number;
  account: string;
}

export interface UploadToken {
  accessId: string;
  accessKey: string;
  accessToken: string;
  expiresAt: number;
  objectKey: string;
  account: string;
}

export type QrState = "waiting" | "scanned" | "confirmed" | "refreshed" | "consumed";

export interface QrLogin {
  token: string;
  state: QrState;
  createdAt: number;
  account?: Account;
  newToken?: string;
}

const TOPIC_CATALOGUE: Array<[string, string]> = [
  ["19550517", "互联网"],
  ["19554298", "编程"],
  ["19552832", "Python"],
  ["19552521", "JavaScript"],
  ["20024316", "TypeScript"],
  ["19572054", "Node.js"],
  ["19550901", "前端开发"],
  ["19559450", "机器学习"],
  ["19551275", "人工智能"],
  ["19813032", "深度学习（Deep Learning）"],
  ["19553034", "数据库"],
  ["19580349", "SQLite"],
  ["19553528", "软件工程"],
  ["19556226", "软件测试"],
  ["19551556", "写作"],
  ["19581209", "Markdown"],
  ["19550228", "知乎"],
  ["19556664", "科技"],
  ["19591985", "Rust（编程语言）"],
  ["19625982", "Go 语言"],
  ["19551147", "生活"],
];

/** Words the simulated review refuses, so clients can meet a content rejection on demand. */
const BANNED_WORDS = ["违禁词"];

export interface Problem {
  code: number;
  message: string;
}

const emptyContent = (): Content => ({
  title: "",
  content: "",
  tableOfContents: false,
  canReward: false,
  titleImage: "",
});

export class World {
  readonly accounts = new Map<string, Account>();
  readonly sessions = new Map<string, Session>();
  readonly articles = new Map<string, Article>();
  readonly topics: Topic[] = TOPIC_CATALOGUE.map(([id, name]) => ({ id, name }));
  readonly images = new Map<string, ImageRecord>(); // by md5
  readonly uploadTokens = new Map<string, UploadToken>(); // by access id
  readonly qr = new Map<string, QrLogin>();
  private articleSeq = 0;
  private imageSeq = 0;
  private uidSeq = 0;

  createAccount(name: string): Account {
    const existing = this.accounts.get(name);
    if (existing) return existing;
    this.uidSeq++;
    const urlToken = name.toLowerCase().replace(/[^a-z0-9-]+/g, "-") || `user-${this.uidSeq}`;
    const account: Account = {
      name,
      id: randomHex(16),
      uid: String(1_398_765_432_100 + this.uidSeq * 7919),
      urlToken,
      column: {
        id: `c_${1_650_000_000_000_000_000n + BigInt(this.uidSeq) * 9_876_543_211n}`,
        title: `${name}的专栏`,
      },
    };
    this.accounts.set(name, account);
    return account;
  }

  /** A new login ticket in the real format: `2|1:0|10:<ts>|4:z_c0|92:<b64>|<sig>`. */
  newSession(account: Account): Session {
    const z_c0 = `2|1:0|10:${nowSec()}|4:z_c0|92:${randomB64(69)}|${randomHex(32)}`;
    const session: Session = { z_c0, account };
    this.sessions.set(z_c0, session);
    return session;
  }

  revoke(account: Account, code: 100 | 101): number {
    let count = 0;
    for (const session of this.sessions.values()) {
      if (session.account === account && session.revokedCode === undefined) {
        session.revokedCode = code;
        count++;
      }
    }
    return count;
  }

  /**
   * Ids are 19 digits and odd, so no id is exactly representable as a double: a client that lets one pass
   * through a JS number always gets a different id back.
   */
  createArticle(account: Account, title: string, content: string): Article {
    this.articleSeq++;
    const id = String(1_913_000_000_000_000_001n + BigInt(this.articleSeq) * 7_654_321_098n);
    const now = Date.now();
    const article: Article = {
      id,
      account,
      draft: { ...emptyContent(), title, content },
      published: null,
      topics: [],
      column: null,
      commentPermission: "anyone",
      publishCount: 0,
      publishedVia: [],
      createdAt: now,
      updatedAt: now,
      publishedAt: null,
      deleted: false,
    };
    this.articles.set(id, article);
    return article;
  }

  findTopics(query: string, max: number): Topic[] {
    const q = query.trim().toLowerCase();
    if (q === "") return [];
    return this.topics.filter((t) => t.name.toLowerCase().includes(q)).slice(0, max);
  }

  addTopic(name: string): Topic {
    const found = this.topics.find((t) => t.name === name);
    if (found) return found;
    const topic = { id: String(27_000_000 + this.topics.length * 131), name };
    this.topics.push(topic);
    return topic;
  }

  /** One record per md5, as Zhihu dedupes images by hash across all accounts. */
  registerImage(md5: string, account: string): ImageRecord {
    let image = this.images.get(md5);
    if (!image) {
      this.imageSeq++;
      image = {
        imageId: String(1_720_000_000_000_000_000n + BigInt(this.imageSeq) * 3_141_592_653n),
        md5,
        bytes: null,
        processingPolls: 2,
        account,
      };
      this.images.set(md5, image);
    }
    return image;
  }

  imageById(imageId: string): ImageRecord | undefined {
    for (const image of this.images.values()) if (image.imageId === imageId) return image;
    return undefined;
  }

  newUploadToken(objectKey: string, account: string): UploadToken {
    const token: UploadToken = {
      accessId: `STS.${randomB64(18).replace(/[^A-Za-z0-9]/g, "")}`,
      accessKey: randomB64(30),
      accessToken: `CAIS${randomB64(180)}`,
      expiresAt: nowSec() + 3600,
      objectKey,
      account,
    };
    this.uploadTokens.set(token.accessId, token);
    return token;
  }

  newQr(): QrLogin {
    const login: QrLogin = { token: randomHex(16), state: "waiting", createdAt: Date.now() };
    this.qr.set(login.token, login);
    return login;
  }

  /** The QR logins a person could still scan, newest first. */
  pendingQr(): QrLogin[] {
    return [...this.qr.values()].filter((q) => q.state === "waiting" || q.state === "scanned").reverse();
  }

  /** Why `article` cannot be published as it stands, or null. */
  publishProblem(article: Article): Problem | null {
    const { title, content } = article.draft;
    if (title.trim() === "") return { code: 10004, message: "标题不能为空" };
    if ([...title].length > 100) return { code: 10005, message: "标题最多 100 个字" };
    if (content.trim() === "") return { code: 10008, message: "正文不能为空" };
    if (article.topics.length === 0) return { code: 10006, message: "请至少添加一个话题" };
    if (BANNED_WORDS.some((w) => title.includes(w) || content.includes(w))) {
      return { code: 10007, message: "内容包含敏感信息，请修改后再发布" };
    }
    return null;
  }

  /** Publishing a draft again updates the same article: the id never changes. */
  publish(article: Article, via: "current" | "legacy", column?: Column | null): void {
    const now = Date.now();
    article.published = { ...article.draft };
    article.publishCount++;
    article.publishedVia.push(via);
    article.publishedAt ??= now;
    article.updatedAt = now;
    if (column !== undefined) article.column = column;
  }
}
