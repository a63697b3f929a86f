/** The part-size rules live in core (config/rules.ts sizes the job from them too). */
export * from "../../core/part-size";
