import { Element, block, describe } from "../inventory";
import { Rule, violation } from "./rule";

/**
 * Rule 5: instances only answer IMDSv2 (session tokens), which blocks the SSRF-style credential
 * theft IMDSv1 allows. Checked on launch templates (Batch compute environments use them) and on
 * plain instances.
 */
export const imdsv2: Rule = ({ inventory }) =>
  [...inventory.resources("aws_launch_template"), ...inventory.resources("aws_instance")].flatMap(
    (element: Element) => {
      const tokens = block(element.config.metadata_options).http_tokens;
      return tokens === "required"
        ? []
        : [
            violation(
              "imdsv2",
              element,
              `metadata_options.http_tokens must be "required" (IMDSv2 only); it is ${describe(tokens)}`,
            ),
          ];
    },
  );
