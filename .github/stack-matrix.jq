# The GitHub Actions matrices of the workflows, from `backup-actions stacks --json` (deploy order).
# Bootstrap and workspaces are left out: an admin applies them once, by hand (README).
#   jq -c -f .github/stack-matrix.jq --arg want plan      one entry per stack to plan
#   jq -c -f .github/stack-matrix.jq --arg want accounts  one entry per account, its stacks in deploy order
[.stacks[] | select(.kind != "bootstrap" and .kind != "workspaces")] as $stacks
| if $want == "plan" then
    [$stacks[] | {stack: .name, kind, account, region, partition}]
  elif $want == "accounts" then
    reduce $stacks[] as $s ([];
      if any(.[]; .account == $s.account)
      then map(if .account == $s.account then .stacks += [$s.name] else . end)
      else . + [{account: $s.account, partition: $s.partition, region: $s.region, stacks: [$s.name]}]
      end)
    | map(.stacks |= join(" "))
  else
    error("want must be plan or accounts, got \($want)")
  end
