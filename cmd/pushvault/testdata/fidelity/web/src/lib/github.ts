import { Octokit } from "@octokit/rest";

export interface Release {
  tag: string;
  publishedAt: string;
}

const githubToken: string = "@@GITHUB@@";

const octokit = new Octokit({ auth: githubToken, userAgent: "acme-shop" });

export async function latestRelease(owner: string, repo: string): Promise<Release> {
  const { data } = await octokit.repos.getLatestRelease({ owner, repo });
  return { tag: data.tag_name, publishedAt: data.published_at ?? "" };
}
